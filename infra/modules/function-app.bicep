// The Flex Consumption (FC1) plan, the Linux function app and every app setting it reads.

param planName string
param appName string
param location string
param tags object

param identityId string
param identityClientId string

param blobEndpoint string
param queueEndpoint string
param tableEndpoint string
param deploymentContainerName string

param applicationInsightsConnectionString string

param personalDataKeySecretUri string
param graphClientSecretUri string

param websiteOrigin string
param citizenSiteUrl string
param publicApiBaseUrl string
param termsVersion string
param termsUrl string

param graphTenantId string
param graphClientId string
param graphOrganizerUserId string
param graphMailbox string

@minValue(40)
@maxValue(1000)
param maximumInstanceCount int

@allowed([
  2048
  4096
])
param instanceMemoryMB int

resource plan 'Microsoft.Web/serverfarms@2024-04-01' = {
  name: planName
  location: location
  tags: tags
  kind: 'functionapp'
  sku: {
    name: 'FC1'
    tier: 'FlexConsumption'
  }
  properties: {
    reserved: true
  }
}

resource functionApp 'Microsoft.Web/sites@2024-04-01' = {
  name: appName
  location: location
  tags: union(tags, {
    'azd-service-name': 'api'
  })
  kind: 'functionapp,linux'
  identity: {
    type: 'UserAssigned'
    userAssignedIdentities: {
      '${identityId}': {}
    }
  }
  properties: {
    serverFarmId: plan.id
    httpsOnly: true
    keyVaultReferenceIdentity: identityId
    siteConfig: {
      minTlsVersion: '1.2'
      // The platform answers CORS preflights and adds the CORS headers; the app adds none.
      cors: {
        allowedOrigins: [
          websiteOrigin
        ]
        supportCredentials: false
      }
    }
    functionAppConfig: {
      deployment: {
        storage: {
          type: 'blobContainer'
          value: '${blobEndpoint}${deploymentContainerName}'
          authentication: {
            type: 'UserAssignedIdentity'
            userAssignedIdentityResourceId: identityId
          }
        }
      }
      scaleAndConcurrency: {
        maximumInstanceCount: maximumInstanceCount
        instanceMemoryMB: instanceMemoryMB
      }
      runtime: {
        name: 'python'
        version: '3.11'
      }
    }
  }
}

// The complete set of app settings: a deployment replaces whatever was set in the portal.
// tools/check_infra.py reads the keys of this object and compares them with the settings the code
// reads, so keep it one literal object.
resource appSettings 'Microsoft.Web/sites/config@2024-04-01' = {
  parent: functionApp
  name: 'appsettings'
  properties: {
    APP_ENV: 'production'

    // Identity-based connection of the Functions host; the app reads the same values.
    AzureWebJobsStorage__credential: 'managedidentity'
    AzureWebJobsStorage__clientId: identityClientId
    AzureWebJobsStorage__blobServiceUri: blobEndpoint
    AzureWebJobsStorage__queueServiceUri: queueEndpoint
    AzureWebJobsStorage__tableServiceUri: tableEndpoint

    APPLICATIONINSIGHTS_CONNECTION_STRING: applicationInsightsConnectionString
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=${identityClientId};Authorization=AAD'

    PERSONAL_DATA_KEY: '@Microsoft.KeyVault(SecretUri=${personalDataKeySecretUri})'

    PUBLIC_API_BASE_URL: empty(publicApiBaseUrl) ? 'https://${functionApp.properties.defaultHostName}' : publicApiBaseUrl
    CITIZEN_SITE_URL: empty(citizenSiteUrl) ? websiteOrigin : citizenSiteUrl
    TERMS_VERSION: termsVersion
    TERMS_URL: termsUrl
    CONFIG_CACHE_SECONDS: '60'
    MAX_REQUEST_BYTES: '16384'

    MAILER: 'graph'
    MEETING_PROVIDER: 'graph'
    PROVISIONING_QUEUE: 'provisioning'

    // Without an app registration the app calls Graph as the managed identity, and the
    // client secret stays empty.
    GRAPH_TENANT_ID: graphTenantId
    GRAPH_CLIENT_ID: empty(graphClientId) ? identityClientId : graphClientId
    GRAPH_CLIENT_SECRET: empty(graphClientId) ? '' : '@Microsoft.KeyVault(SecretUri=${graphClientSecretUri})'
    GRAPH_ORGANIZER_USER_ID: graphOrganizerUserId
    GRAPH_MAILBOX: graphMailbox
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
