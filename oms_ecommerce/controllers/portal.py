from werkzeug.exceptions import NotFound

from odoo import http
from odoo.addons.sale.controllers.portal import CustomerPortal
from odoo.exceptions import AccessError, MissingError
from odoo.http import request


class OmsCustomerPortal(CustomerPortal):
    def _prepare_orders_domain(self, partner):
        """Channel orders are the customer's from the moment they are received, not only once confirmed."""
        return [
            ("partner_id", "child_of", [partner.commercial_partner_id.id]),
            "|",
            ("state", "=", "sale"),
            "&",
            ("oms_channel_id", "!=", False),
            ("state", "in", ("draft", "sent", "cancel")),
        ]

    @http.route()
    def portal_order_page(self, order_id, report_type=None, access_token=None, **kw):
        """Another customer's channel order is a plain 404, never a redirect that confirms it exists."""
        try:
            self._document_check_access("sale.order", order_id, access_token=access_token)
        except (AccessError, MissingError):
            if request.env["sale.order"].sudo().browse(order_id).exists().oms_channel_id:
                raise NotFound() from None
        return super().portal_order_page(order_id, report_type=report_type, access_token=access_token, **kw)
