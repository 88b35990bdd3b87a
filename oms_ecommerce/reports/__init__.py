from . import manifest, oms_channel_margin, packing_slip, rma_label, shipping_label, wave_pick_list
