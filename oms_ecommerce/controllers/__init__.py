from . import channel_api, deal_portal, platform_webhooks, portal, rma_portal, ticket_portal
