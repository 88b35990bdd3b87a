from . import channel_api
