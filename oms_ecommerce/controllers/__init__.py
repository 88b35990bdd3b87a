from . import channel_api, platform_webhooks, portal, ticket_portal
