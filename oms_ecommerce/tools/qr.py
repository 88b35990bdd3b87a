import base64
import io

import qrcode


def qr_data_uri(value, box_size=4):
    """A PNG QR code (the ``qrcode`` library) as a data URI for reports."""
    image = qrcode.make(value, box_size=box_size, border=1)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
