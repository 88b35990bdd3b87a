from odoo import models

PLACEHOLDER = "<shipmenttrackingnumber>"


class DeliveryCarrier(models.Model):
    _inherit = "delivery.carrier"

    def _oms_tracking_url(self, number, picking=None):
        """The public tracking page of one parcel number.

        The carrier's tracking-link pattern (``tracking_url``, any carrier type) gives one link per
        parcel; otherwise the carrier integration's own link for the picking is used.
        """
        self.ensure_one()
        if not number:
            return False
        if self.tracking_url and PLACEHOLDER in self.tracking_url:
            return self.tracking_url.replace(PLACEHOLDER, number)
        if picking:
            url = self.get_tracking_link(picking)
            if url and not url.startswith("["):
                return url
        return False
