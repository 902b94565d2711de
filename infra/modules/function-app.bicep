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
param webhookSecretUri string

param websiteOrigin string
param citizenSiteUrl string
param publicApiBaseUrl string
param termsVersion string
param termsUrl string

param retentionDays int
param rulesSchedule string
param purgeSchedule string
param teamAlertAddress string
param teamAlertLanguage string

param provisioningQueueName string
param webhookQueueName string
@secure()
param webhookUrls string

param graphTenantId string
param graphClientId string
param graphOrganizerUserId string
param graphMailbox string
param graphMeetingSubjectPrefix string
param graphLobbyBypassScope string
param graphAllowedPresenters string
param graphMeetingChat string
param graphAnnounceEntryExit bool
param graphAttendeeCamera bool
param graphAttendeeMicrophone bool
param graphVirtualAppointmentLinks bool
param graphEventsQueueName string
param graphSubscriptionsSchedule string
param graphAttendanceReconciliation bool

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

    // Personal data is deleted this many days after the appointment's end.
    RETENTION_DAYS: string(retentionDays)
    // NCRONTAB schedules of the timer triggers enforce_rules and purge_personal_data. They run in
    // UTC, because this template sets no time zone.
    RULES_SCHEDULE: rulesSchedule
    PURGE_SCHEDULE: purgeSchedule
    // Extra wait before the 10-minute rules decide, for signals that arrive late. Only Graph call
    // events deliver signals late, and they are off below.
    RULES_SETTLE_SECONDS: '0'
    // Empty sends no agent-late alert.
    TEAM_ALERT_ADDRESS: teamAlertAddress
    TEAM_ALERT_LANGUAGE: teamAlertLanguage

    MAILER: 'graph'
    MEETING_PROVIDER: 'graph'

    // The queue trigger provision_booking_poison reads '<PROVISIONING_QUEUE>-poison'. The retry
    // values are the code defaults in shared/settings.py.
    PROVISIONING_QUEUE: provisioningQueueName
    PROVISIONING_MAX_ATTEMPTS: '6'
    PROVISIONING_RETRY_BASE_SECONDS: '60'
    PROVISIONING_RETRY_MAX_SECONDS: '3600'
    PROVISIONING_MAX_INLINE_WAIT_SECONDS: '60'

    // Without an app registration the app calls Graph as the user-assigned identity, and the
    // client secret stays empty. Certificate sign-in is not offered: the template deploys no
    // certificate file for GRAPH_CLIENT_CERTIFICATE_PATH to name.
    GRAPH_CREDENTIAL: empty(graphClientId) ? 'managed_identity' : 'client_secret'
    GRAPH_MANAGED_IDENTITY_CLIENT_ID: identityClientId
    GRAPH_TENANT_ID: graphTenantId
    GRAPH_CLIENT_ID: graphClientId
    GRAPH_CLIENT_SECRET: empty(graphClientId) ? '' : '@Microsoft.KeyVault(SecretUri=${graphClientSecretUri})'
    GRAPH_ORGANIZER_USER_ID: graphOrganizerUserId
    GRAPH_MAILBOX: graphMailbox
    // The global Microsoft cloud. A national cloud has its own Graph and sign-in hosts.
    GRAPH_BASE_URL: 'https://graph.microsoft.com/v1.0'
    GRAPH_AUTHORITY_HOST: 'https://login.microsoftonline.com'
    GRAPH_TIMEOUT_SECONDS: '30'
    // Exchange Online accepts at most 4 concurrent requests per app and mailbox.
    GRAPH_MAIL_CONCURRENCY: '4'

    // Options of every Teams meeting. Anonymous guests (the citizens) wait in the lobby with each
    // lobby scope; recording and transcription are always off (shared/adapters/graph/meetings.py).
    GRAPH_MEETING_SUBJECT_PREFIX: graphMeetingSubjectPrefix
    GRAPH_LOBBY_BYPASS_SCOPE: graphLobbyBypassScope
    GRAPH_ALLOWED_PRESENTERS: graphAllowedPresenters
    GRAPH_MEETING_CHAT: graphMeetingChat
    GRAPH_ANNOUNCE_ENTRY_EXIT: graphAnnounceEntryExit ? 'true' : 'false'
    GRAPH_ATTENDEE_CAMERA: graphAttendeeCamera ? 'true' : 'false'
    GRAPH_ATTENDEE_MICROPHONE: graphAttendeeMicrophone ? 'true' : 'false'
    GRAPH_VIRTUAL_APPOINTMENT_LINKS: graphVirtualAppointmentLinks ? 'true' : 'false'

    // Graph call events (docs/graph-call-events.md). The host resolves GRAPH_EVENTS_QUEUE and
    // GRAPH_SUBSCRIPTIONS_SCHEDULE while loading the app, so both are set even with the feature off.
    // NOTE: GRAPH_CALL_EVENTS stays off because it needs a notification certificate file on the
    // instance, and this template deploys none. The attendance reports need no certificate.
    GRAPH_CALL_EVENTS: 'false'
    GRAPH_EVENTS_QUEUE: graphEventsQueueName
    GRAPH_SUBSCRIPTIONS_SCHEDULE: graphSubscriptionsSchedule
    GRAPH_SUBSCRIPTION_WINDOW_HOURS: '24'
    GRAPH_BETA_BASE_URL: 'https://graph.microsoft.com/beta'
    GRAPH_ATTENDANCE_RECONCILIATION: graphAttendanceReconciliation ? 'true' : 'false'
    GRAPH_ATTENDANCE_DELAY_MINUTES: '30'
    GRAPH_ATTENDANCE_LOOKBACK_HOURS: '24'

    // Without receiver URLs no webhook is sent and no signing key is needed.
    // NOTE: when the vault holds no webhook-secret, the platform leaves the reference text in
    // WEBHOOK_SECRET and the app refuses to start. Pass webhookSecret in the deployment that first
    // sets webhookUrls.
    WEBHOOK_URLS: webhookUrls
    WEBHOOK_SECRET: empty(webhookUrls) ? '' : '@Microsoft.KeyVault(SecretUri=${webhookSecretUri})'
    WEBHOOK_QUEUE: webhookQueueName
    WEBHOOK_MAX_ATTEMPTS: '8'
    WEBHOOK_TIMEOUT_SECONDS: '10'
  }
}

output name string = functionApp.name
output defaultHostName string = functionApp.properties.defaultHostName
