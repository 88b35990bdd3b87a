from . import channel_api, platform_webhooks, portal, rma_portal, ticket_portal
