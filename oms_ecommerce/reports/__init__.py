from . import packing_slip, shipping_label
