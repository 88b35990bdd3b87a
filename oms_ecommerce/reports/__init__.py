from . import manifest, packing_slip, shipping_label, wave_pick_list
