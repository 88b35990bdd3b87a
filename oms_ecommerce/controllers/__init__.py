from . import channel_api, portal
