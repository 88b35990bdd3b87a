from markupsafe import Markup, escape
from werkzeug.exceptions import NotFound

from odoo import http
from odoo.addons.portal.controllers.portal import CustomerPortal
from odoo.addons.portal.controllers.portal import pager as portal_pager
from odoo.exceptions import AccessError, MissingError
from odoo.http import request

from ..models.oms_ticket import TICKET_CATEGORIES

TICKETS_PER_PAGE = 20


def _parse_id(value):
    """A record id from a query or form value: ASCII digits only, within PostgreSQL's integer, else None
    ("²".isdigit() is true, and int() of 4,400 digits raises)."""
    value = str(value or "").strip()
    if not value.isascii() or not value.isdigit() or len(value) > 10:
        return None
    number = int(value)
    return number if 0 < number <= 2**31 - 1 else None


class OmsTicketPortal(CustomerPortal):
    def _prepare_home_portal_values(self, counters):
        values = super()._prepare_home_portal_values(counters)
        if "oms_ticket_count" in counters:
            Ticket = request.env["oms.ticket"]
            values["oms_ticket_count"] = (
                Ticket.search_count(self._oms_my_tickets_domain()) if Ticket.has_access("read") else 0
            )
        return values

    def _oms_my_tickets_domain(self):
        # The logged-in customer's own requests (an agent on the portal sees theirs, not the desk's).
        return [("partner_id", "child_of", request.env.user.partner_id.commercial_partner_id.id)]

    def _oms_customer_orders(self, order_id=None):
        partner = request.env.user.partner_id.commercial_partner_id
        domain = [("partner_id", "child_of", partner.id), ("oms_channel_id", "!=", False)]
        if order_id:
            domain.append(("id", "=", order_id))
        return request.env["sale.order"].sudo().search(domain, order="date_order desc, id desc", limit=50)

    @http.route(["/my/tickets", "/my/tickets/page/<int:page>"], type="http", auth="user", website=True)
    def portal_my_tickets(self, page=1, **kw):
        Ticket = request.env["oms.ticket"]
        domain = self._oms_my_tickets_domain()
        total = Ticket.search_count(domain)
        pager = portal_pager(url="/my/tickets", total=total, page=page, step=TICKETS_PER_PAGE)
        tickets = Ticket.search(domain, order="id desc", limit=TICKETS_PER_PAGE, offset=pager["offset"])
        values = self._prepare_portal_layout_values()
        values.update(
            {"tickets": tickets.sudo(), "page_name": "oms_ticket", "pager": pager, "default_url": "/my/tickets"}
        )
        return request.render("oms_ecommerce.portal_my_tickets", values)

    @http.route("/my/tickets/<int:ticket_id>", type="http", auth="public", website=True)
    def portal_my_ticket(self, ticket_id, access_token=None, **kw):
        try:
            ticket_sudo = self._document_check_access("oms.ticket", ticket_id, access_token=access_token)
        except (AccessError, MissingError):
            # Another customer's ticket is not found, not forbidden: its existence is not confirmed.
            raise NotFound() from None
        values = self._prepare_portal_layout_values()
        values.update({"ticket": ticket_sudo, "page_name": "oms_ticket"})
        values = self._get_page_view_values(ticket_sudo, access_token, values, "my_tickets_history", False, **kw)
        return request.render("oms_ecommerce.portal_my_ticket", values)

    @http.route("/my/tickets/new", type="http", auth="user", website=True, methods=["GET"])
    def portal_new_ticket(self, order_id=None, **kw):
        values = {"order_id": _parse_id(order_id)}
        if values["order_id"]:
            values["category"] = "where"
        return self._oms_render_new_ticket(values)

    def _oms_render_new_ticket(self, values, error=None):
        page = self._prepare_portal_layout_values()
        categories = request.env["oms.ticket"]._fields["category"]._description_selection(request.env)
        page.update(
            {
                "page_name": "oms_ticket_new",
                "orders": self._oms_customer_orders(),
                "categories": categories or TICKET_CATEGORIES,
                "values": values,
                "error": error,
            }
        )
        return request.render("oms_ecommerce.portal_my_ticket_new", page)

    @http.route("/my/tickets/new", type="http", auth="user", website=True, methods=["POST"])
    def portal_create_ticket(self, subject="", message="", category="other", order_id="", **kw):
        values = {
            "subject": (subject or "").strip(),
            "message": (message or "").strip(),
            "category": category,
            "order_id": _parse_id(order_id),
        }
        if not values["subject"] or not values["message"]:
            return self._oms_render_new_ticket(values, error=request.env._("Please give a subject and your message."))
        if category not in dict(TICKET_CATEGORIES):
            values["category"] = "other"
        order = request.env["sale.order"]
        if values["order_id"]:
            order = self._oms_customer_orders(values["order_id"])
            if not order:
                return self._oms_render_new_ticket(
                    values, error=request.env._("This order is not one of yours: choose it from the list.")
                )
        partner = request.env.user.partner_id
        description = Markup("<p>%s</p>") % Markup("<br/>").join(
            escape(line) for line in values["message"].splitlines()
        )
        ticket = (
            request.env["oms.ticket"]
            .sudo()
            .create(
                {
                    "subject": values["subject"][:200],
                    "description": description,
                    "category": values["category"],
                    "partner_id": partner.id,
                    "order_id": order.id,
                    "company_id": (order.company_id or request.env.company).id,
                }
            )
        )
        return request.redirect(f"/my/tickets/{ticket.id}")
