from . import oms_channel_secret, oms_intake_import
