from . import channel_api, portal, ticket_portal
