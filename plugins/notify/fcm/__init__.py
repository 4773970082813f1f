"""Firebase Cloud Messaging (HTTP v1): push notifications to the devices users register."""
