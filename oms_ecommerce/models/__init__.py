from . import (
    oms_channel,
    oms_channel_carrier,
    oms_demo,
    oms_intake,
    oms_order_step,
    res_partner,
    sale_order,
    stock_picking,
)
