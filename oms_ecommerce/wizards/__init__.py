from . import (
    oms_accounting_report,
    oms_channel_secret,
    oms_channel_secret_set,
    oms_handover,
    oms_intake_import,
    oms_order_hold,
    oms_pack,
    oms_payout_import,
    oms_rma_receive,
    oms_rma_request,
    oms_wave_print_wizard,
)
