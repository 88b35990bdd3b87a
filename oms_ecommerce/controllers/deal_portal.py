from werkzeug.exceptions import NotFound

from odoo import http
from odoo.http import request

from ..models.oms_deal import check_unsubscribe_token


class OmsDealPortal(http.Controller):
    """The customer's deal emails: the opt-in on the portal home, and the unsubscribe link of every deal email."""

    @http.route("/my/deals/subscription", type="http", auth="user", website=True, methods=["POST"])
    def portal_deal_subscription(self, optin="0", **kw):
        request.env.user.partner_id.sudo().oms_deal_optin = optin == "1"
        return request.redirect("/my")

    @http.route(
        "/oms/deals/unsubscribe/<int:partner_id>/<string:token>",
        type="http",
        auth="public",
        website=True,
        methods=["GET", "POST"],
        readonly=False,
        csrf=False,
    )
    def deal_unsubscribe(self, partner_id, token, optin="0", **kw):
        """The link of every deal email: no login, the token (an HMAC of the contact) proves the address, so
        it takes no CSRF token: mail clients POST ``List-Unsubscribe=One-Click`` to it (RFC 8058)."""
        if not check_unsubscribe_token(request.env, partner_id, token):
            raise NotFound()
        partner = request.env["res.partner"].sudo().browse(partner_id).exists()
        if not partner:
            raise NotFound()
        if request.httprequest.method != "POST":
            # Opening the link only asks: mail scanners follow links, they must not unsubscribe anyone.
            return request.render(
                "oms_ecommerce.unsubscribed",
                {
                    "optin": partner.oms_deal_optin,
                    "email": partner.email,
                    "partner_id": partner_id,
                    "token": token,
                    "ask": True,
                },
            )
        wanted = optin == "1"
        if partner.oms_deal_optin != wanted:
            partner.oms_deal_optin = wanted
            partner.message_post(
                body=request.env._("Deal emails switched on by the customer.")
                if wanted
                else request.env._("Deal emails switched off by the customer (unsubscribe link)."),
                subtype_xmlid="mail.mt_note",
            )
        return request.render(
            "oms_ecommerce.unsubscribed",
            {"optin": wanted, "email": partner.email, "partner_id": partner_id, "token": token, "ask": False},
        )
