from . import oms_channel_secret, oms_intake_import, oms_order_hold, oms_pack
from . import oms_accounting_report, oms_payout_import
