from . import manifest, packing_slip, shipping_label, wave_pick_list
from . import oms_channel_margin
