from . import manifest, oms_channel_margin, packing_slip, shipping_label, wave_pick_list
