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

@allowed([
  'organizer'
  'organization'
  'organizationExcludingGuests'
  'invited'
])
@description('Who skips the lobby of the Teams meetings. Anonymous guests (the citizens) wait with every value.')
param graphLobbyBypassScope string = 'organization'

@allowed([
  'organizer'
  'organization'
])
@description('Who presents in the Teams meetings, and so admits guests from the lobby. Use organization when a service account (graphOrganizerUserId) organizes meetings for agents.')
param graphAllowedPresenters string = 'organizer'

@allowed([
  'enabled'
  'disabled'
  'limited'
])
@description('Meeting chat: limited allows it only while the meeting runs.')
param graphMeetingChat string = 'limited'

@description('Announce who joins and leaves a meeting.')
param graphAnnounceEntryExit bool = true

@description('Let guests turn on their camera. The identity check needs the citizen\'s camera.')
param graphAttendeeCamera bool = true

@description('Let guests turn on their microphone.')
param graphAttendeeMicrophone bool = true

@description('Join links that open in a mobile browser. Needs the Graph permission VirtualAppointment.Read.All.')
param graphVirtualAppointmentLinks bool = false

@minLength(1)
@maxLength(100)
@description('Teams meeting title before the booking reference. Never put a name in it.')
param graphMeetingSubjectPrefix string = 'Videoloket'

@description('Store the Teams attendance report of each ended video appointment as audit rows. Needs the Graph permission OnlineMeetingArtifact.Read.All.')
param graphAttendanceReconciliation bool = false

@minLength(1)
@description('NCRONTAB schedule (with seconds, in UTC) of the timer that reads the attendance reports and manages the Graph call event subscriptions. It runs even when both features are off, and then does nothing.')
param graphSubscriptionsSchedule string = '0 */15 * * * *'

@secure()
@description('Key that encrypts all personal data of a booking (names, e-mail, phone, national number, postcode), keys the look-ups by national number and by idempotency key, and signs the manage tokens: base64 of 32 random bytes, stored in Key Vault. Empty keeps the key already in the vault. Never replace a key in use.')
param personalDataKey string = ''

@description('Version of the terms that citizens accept when they book.')
param termsVersion string = '2026-01'

@description('URL of the terms page.')
param termsUrl string = 'https://www.hvw.fgov.be/videoloket/terms'

@minValue(1)
@maxValue(3650)
@description('Days after an appointment\'s end when its personal data is deleted.')
param retentionDays int = 30

@minLength(1)
@description('NCRONTAB schedule (with seconds, in UTC) of the timer that sends reminders and applies the 10-minute rules.')
param rulesSchedule string = '0 */1 * * * *'

@minLength(1)
@description('NCRONTAB schedule (with seconds, in UTC) of the purge of personal data past retentionDays. The default runs it daily at 02:30 UTC.')
param purgeSchedule string = '0 30 2 * * *'

@description('Mailbox that gets an alert for every appointment the agency did not join in time. Empty sends no alert.')
param teamAlertAddress string = ''

@allowed([
  'nl'
  'fr'
  'de'
])
@description('Language of the alert mails to teamAlertAddress.')
param teamAlertLanguage string = 'nl'

@secure()
@description('Comma-separated HTTPS URLs that receive the webhooks. A Power Automate URL carries its access signature, so treat the list as a secret. Empty sends no webhooks.')
param webhookUrls string = ''

@secure()
@description('Key that signs the webhooks, at least 32 characters, stored in Key Vault. Empty keeps the secret already in the vault. Pass it in the deployment that first sets webhookUrls.')
param webhookSecret string = ''

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
var provisioningQueueName = 'provisioning'
var webhookQueueName = 'webhooks'
var graphEventsQueueName = 'graph-events'
// The tables that functions/dependencies.py opens. Azure sets no TABLE_PREFIX.
var tableNames = [
  'config'
  'ledger'
  'maillog'
]

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
    queueNames: [
      provisioningQueueName
      '${provisioningQueueName}-poison'
      webhookQueueName
      graphEventsQueueName
    ]
    tableNames: tableNames
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
    webhookSecret: webhookSecret
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
    webhookSecretUri: keyVault.outputs.webhookSecretUri
    websiteOrigin: websiteOrigin
    citizenSiteUrl: citizenSiteUrl
    publicApiBaseUrl: publicApiBaseUrl
    termsVersion: termsVersion
    termsUrl: termsUrl
    retentionDays: retentionDays
    rulesSchedule: rulesSchedule
    purgeSchedule: purgeSchedule
    teamAlertAddress: teamAlertAddress
    teamAlertLanguage: teamAlertLanguage
    provisioningQueueName: provisioningQueueName
    webhookQueueName: webhookQueueName
    webhookUrls: webhookUrls
    graphTenantId: empty(graphTenantId) ? subscription().tenantId : graphTenantId
    graphClientId: graphClientId
    graphOrganizerUserId: graphOrganizerUserId
    graphMailbox: graphMailbox
    graphMeetingSubjectPrefix: graphMeetingSubjectPrefix
    graphLobbyBypassScope: graphLobbyBypassScope
    graphAllowedPresenters: graphAllowedPresenters
    graphMeetingChat: graphMeetingChat
    graphAnnounceEntryExit: graphAnnounceEntryExit
    graphAttendeeCamera: graphAttendeeCamera
    graphAttendeeMicrophone: graphAttendeeMicrophone
    graphVirtualAppointmentLinks: graphVirtualAppointmentLinks
    graphEventsQueueName: graphEventsQueueName
    graphSubscriptionsSchedule: graphSubscriptionsSchedule
    graphAttendanceReconciliation: graphAttendanceReconciliation
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
