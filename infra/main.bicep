// The videoloket booking backend: one resource group with a Flex Consumption function app,
// its storage, Key Vault, monitoring and the managed identity that connects them.

targetScope = 'subscription'

@minLength(1)
@maxLength(64)
@description('Name of the azd environment. It names the resource group and seeds the unique resource names.')
param environmentName string

@minLength(1)
@description('Azure region of every resource, for example westeurope. The region must offer the Flex Consumption plan.')
param location string

@minLength(1)
@description('Origin of the public website, for example https://videoloket.example.be, with no path and no trailing slash. CORS allows only this origin.')
param websiteOrigin string

@description('Base URL of the website used in links in mails. Empty uses websiteOrigin.')
param citizenSiteUrl string = ''

@description('Public base URL of this API, for example behind a custom domain. Empty uses https://<function app default host name>.')
param publicApiBaseUrl string = ''

@description('Microsoft Entra tenant that holds the Graph organizer and mailbox. Empty uses the tenant of the subscription.')
param graphTenantId string = ''

@description('Client id of a Graph app registration. Empty makes the app call Graph as its managed identity.')
param graphClientId string = ''

@secure()
@description('Client secret of the Graph app registration, stored in Key Vault. Empty keeps the secret already in the vault.')
param graphClientSecret string = ''

@minLength(1)
@description('Object id of the licensed user who organizes the Teams meetings.')
param graphOrganizerUserId string

@minLength(1)
@description('Mailbox (user principal name or object id) that sends the booking mails.')
param graphMailbox string

@secure()
@description('Key that encrypts national numbers: base64 of 32 random bytes, stored in Key Vault. Empty keeps the key already in the vault. Never replace a key in use.')
param personalDataKey string = ''

@description('Version of the terms that citizens accept when they book.')
param termsVersion string = '2026-01'

@description('URL of the terms page.')
param termsUrl string = 'https://www.hvw.fgov.be/videoloket/terms'

// NOTE: 40 is the lowest value the Azure quickstart template for Flex Consumption accepts; the
// plan may accept lower values now.
@minValue(40)
@maxValue(1000)
@description('Maximum number of instances the app scales out to.')
param maximumInstanceCount int = 40

@allowed([
  2048
  4096
])
@description('Memory of each instance, in MB.')
param instanceMemoryMB int = 2048

@minValue(30)
@maxValue(730)
@description('Days that Log Analytics keeps logs.')
param logRetentionInDays int = 30

var resourceToken = toLower(uniqueString(subscription().id, environmentName, location))
var tags = {
  'azd-env-name': environmentName
}
var deploymentContainerName = 'app-package'

resource appResourceGroup 'Microsoft.Resources/resourceGroups@2021-04-01' = {
  name: 'rg-${environmentName}'
  location: location
  tags: tags
}

module identity 'modules/identity.bicep' = {
  name: 'identity'
  scope: appResourceGroup
  params: {
    name: 'id-${resourceToken}'
    location: location
    tags: tags
  }
}

module monitoring 'modules/monitoring.bicep' = {
  name: 'monitoring'
  scope: appResourceGroup
  params: {
    logAnalyticsName: 'log-${resourceToken}'
    applicationInsightsName: 'appi-${resourceToken}'
    location: location
    tags: tags
    retentionInDays: logRetentionInDays
  }
}

module storage 'modules/storage.bicep' = {
  name: 'storage'
  scope: appResourceGroup
  params: {
    name: 'st${resourceToken}'
    location: location
    tags: tags
    deploymentContainerName: deploymentContainerName
  }
}

module keyVault 'modules/key-vault.bicep' = {
  name: 'key-vault'
  scope: appResourceGroup
  params: {
    name: 'kv-${resourceToken}'
    location: location
    tags: tags
    personalDataKey: personalDataKey
    graphClientSecret: graphClientSecret
  }
}

module roles 'modules/role-assignments.bicep' = {
  name: 'role-assignments'
  scope: appResourceGroup
  params: {
    principalId: identity.outputs.principalId
    storageAccountName: storage.outputs.name
    applicationInsightsName: monitoring.outputs.applicationInsightsName
    keyVaultName: keyVault.outputs.name
  }
}

module functionApp 'modules/function-app.bicep' = {
  name: 'function-app'
  scope: appResourceGroup
  // Roles first, so that the host can reach storage and resolve the Key Vault references soon after
  // it starts. A new role assignment can still take a few minutes to apply.
  dependsOn: [
    roles
  ]
  params: {
    planName: 'plan-${resourceToken}'
    appName: 'func-${resourceToken}'
    location: location
    tags: tags
    identityId: identity.outputs.id
    identityClientId: identity.outputs.clientId
    blobEndpoint: storage.outputs.blobEndpoint
    queueEndpoint: storage.outputs.queueEndpoint
    tableEndpoint: storage.outputs.tableEndpoint
    deploymentContainerName: deploymentContainerName
    applicationInsightsConnectionString: monitoring.outputs.connectionString
    personalDataKeySecretUri: keyVault.outputs.personalDataKeySecretUri
    graphClientSecretUri: keyVault.outputs.graphClientSecretUri
    websiteOrigin: websiteOrigin
    citizenSiteUrl: citizenSiteUrl
    publicApiBaseUrl: publicApiBaseUrl
    termsVersion: termsVersion
    termsUrl: termsUrl
    graphTenantId: empty(graphTenantId) ? subscription().tenantId : graphTenantId
    graphClientId: graphClientId
    graphOrganizerUserId: graphOrganizerUserId
    graphMailbox: graphMailbox
    maximumInstanceCount: maximumInstanceCount
    instanceMemoryMB: instanceMemoryMB
  }
}

output AZURE_LOCATION string = location
output AZURE_TENANT_ID string = subscription().tenantId
output AZURE_RESOURCE_GROUP string = appResourceGroup.name
output FUNCTION_APP_NAME string = functionApp.outputs.name
output API_BASE_URL string = 'https://${functionApp.outputs.defaultHostName}'
output KEY_VAULT_NAME string = keyVault.outputs.name
output STORAGE_ACCOUNT_NAME string = storage.outputs.name
output MANAGED_IDENTITY_CLIENT_ID string = identity.outputs.clientId
output MANAGED_IDENTITY_PRINCIPAL_ID string = identity.outputs.principalId
