// The Key Vault that holds the app's secrets. The app never reads the vault itself: the platform
// resolves the @Microsoft.KeyVault(...) app settings with the user-assigned identity.

param name string
param location string
param tags object

@secure()
@description('Base64 of 32 random bytes. Empty keeps the secret already in the vault.')
param personalDataKey string

@secure()
@description('Client secret of the Graph app registration. Empty keeps the secret already in the vault.')
param graphClientSecret string

@secure()
@description('HMAC-SHA256 key that signs the outgoing webhooks, at least 32 characters. Empty keeps the secret already in the vault.')
param webhookSecret string

var personalDataKeySecretName = 'personal-data-key'
var graphClientSecretName = 'graph-client-secret'
var webhookSecretName = 'webhook-secret'

resource vault 'Microsoft.KeyVault/vaults@2023-07-01' = {
  name: name
  location: location
  tags: tags
  properties: {
    tenantId: subscription().tenantId
    sku: {
      family: 'A'
      name: 'standard'
    }
    enableRbacAuthorization: true
    enableSoftDelete: true
    softDeleteRetentionInDays: 90
    enablePurgeProtection: true
    publicNetworkAccess: 'Enabled'
    networkAcls: {
      bypass: 'AzureServices'
      defaultAction: 'Allow'
    }
  }
}

// Each secret is written only when a value is passed, so a deployment without the value leaves
// the stored secret alone. Overwriting PERSONAL_DATA_KEY with a new value makes the personal data
// stored under the old key unreadable.
resource personalDataKeySecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(personalDataKey)) {
  parent: vault
  name: personalDataKeySecretName
  properties: {
    value: personalDataKey
    contentType: 'base64, 32 bytes'
  }
}

resource graphClientSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(graphClientSecret)) {
  parent: vault
  name: graphClientSecretName
  properties: {
    value: graphClientSecret
  }
}

resource webhookSecretSecret 'Microsoft.KeyVault/vaults/secrets@2023-07-01' = if (!empty(webhookSecret)) {
  parent: vault
  name: webhookSecretName
  properties: {
    value: webhookSecret
  }
}

output name string = vault.name

// Versionless URIs: the platform resolves the newest version of each secret.
output personalDataKeySecretUri string = '${vault.properties.vaultUri}secrets/${personalDataKeySecretName}'
output graphClientSecretUri string = '${vault.properties.vaultUri}secrets/${graphClientSecretName}'
output webhookSecretUri string = '${vault.properties.vaultUri}secrets/${webhookSecretName}'
