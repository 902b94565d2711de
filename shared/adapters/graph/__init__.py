"""Microsoft Graph adapters: Teams meetings and mail. msgraph loads on the first request, not on import."""
