import re

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError

TICKET_CATEGORIES = [
    ("where", "Where is my order"),
    ("return", "Return or exchange"),
    ("damaged", "Damaged or wrong item"),
    ("payment", "Payment or invoice"),
    ("other", "Other"),
]
TICKET_PRIORITIES = [("0", "Low"), ("1", "Normal"), ("2", "High"), ("3", "Urgent")]
TICKET_STAGES = [
    ("new", "New"),
    ("in_progress", "In Progress"),
    ("waiting", "Waiting for Customer"),
    ("solved", "Solved"),
    ("closed", "Closed"),
]
DONE_STAGES = ("solved", "closed")
# Words of an email that may be an order number or a channel's order id ("S00042", "#1001", "AMZ-123-456").
ORDER_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,62}[A-Za-z0-9]|[0-9]")
MAX_ORDER_TOKENS = 400
TICKET_NUMBER = re.compile(r"\[([A-Z]{2,5}/\d{3,})\]")


class OmsTicket(models.Model):
    """A customer's question, tied to the channel order it is about.

    The service level clock runs in the team's working hours from ``opened_at`` and pauses while the
    ticket waits for the customer (and while it is solved, should the customer reopen it):
    ``paused_hours`` (working hours spent waiting) push the resolution deadline back, and the pauses
    before the first answer (``response_paused_hours``) push the first-response deadline back. ``sla_at_risk`` and ``sla_breached`` are stored so that they can be searched and
    grouped; they change with time and are refreshed by a scheduled action and on every stage change.
    """

    _name = "oms.ticket"
    _check_company_auto = True
    _description = "Customer Service Ticket"
    _inherit = ["portal.mixin", "mail.thread.cc", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _primary_email = "email_from"
    _mail_post_access = "read"

    name = fields.Char(string="Number", readonly=True, copy=False, default="/", index="trigram")
    subject = fields.Char(required=True, tracking=True)
    description = fields.Html(sanitize_style=True)
    # No company check on the customer: an email from a contact of another company still makes a ticket.
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True, index=True)
    email_from = fields.Char(string="Email", help="The address the customer wrote from.")
    order_id = fields.Many2one(
        "sale.order",
        string="Order",
        tracking=True,
        index="btree_not_null",
        domain="[('oms_channel_id', '!=', False)]",
        check_company=True,
    )
    picking_id = fields.Many2one(
        "stock.picking",
        string="Delivery",
        domain="[('sale_id', '=', order_id), ('picking_type_code', '=', 'outgoing')]",
        check_company=True,
    )
    channel_id = fields.Many2one(
        "oms.channel",
        compute="_compute_channel_id",
        store=True,
        readonly=False,
        index="btree_not_null",
        check_company=True,
    )
    category = fields.Selection(TICKET_CATEGORIES, required=True, default="other", tracking=True)
    priority = fields.Selection(TICKET_PRIORITIES, required=True, default="1", tracking=True)
    stage = fields.Selection(
        TICKET_STAGES, required=True, default="new", tracking=True, index=True, group_expand=True, copy=False
    )
    team_id = fields.Many2one(
        "oms.ticket.team",
        string="Team",
        default=lambda self: self._default_team(),
        tracking=True,
        index=True,
        check_company=True,
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned to",
        tracking=True,
        index=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        check_company=True,
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, index=True)
    color = fields.Integer()
    ack_sent = fields.Boolean(string="Acknowledged", readonly=True, copy=False)

    # The order beside the agent: related fields, read live from the order.
    order_step = fields.Selection(related="order_id.oms_step", string="Order Step")
    order_ship_by = fields.Datetime(related="order_id.oms_ship_by", string="Ship By")
    order_step_ids = fields.One2many(related="order_id.oms_step_ids", string="Order Timeline")
    order_line_ids = fields.One2many(related="order_id.order_line", string="Items")
    order_channel_ref = fields.Char(related="order_id.oms_external_id", string="Channel Order")
    order_step_label = fields.Char(compute="_compute_order_live", string="Order Status")
    order_expected_text = fields.Char(compute="_compute_order_live", string="Expected")
    order_tracking_html = fields.Html(compute="_compute_order_live", string="Tracking", sanitize=False)

    @api.constrains("order_id", "partner_id")
    def _check_order_customer(self):
        for ticket in self:
            order = ticket.order_id
            if order and ticket.partner_id.commercial_partner_id != order.partner_id.commercial_partner_id:
                raise ValidationError(
                    self.env._(
                        "Order %(order)s belongs to %(owner)s, not to the ticket's customer %(customer)s: link an "
                        "order of this customer, or change the customer first.",
                        order=order.name,
                        owner=order.partner_id.display_name,
                        customer=ticket.partner_id.display_name or self.env._("(none)"),
                    )
                )

    @api.onchange("order_id")
    def _onchange_order_id(self):
        if self.order_id and not self.partner_id:
            self.partner_id = self.order_id.partner_id

    def _default_team(self):
        return self.env["oms.ticket.team"].search([("company_id", "=", self.env.company.id)], limit=1)

    @api.depends("order_id")
    def _compute_channel_id(self):
        for ticket in self:
            if ticket.order_id.oms_channel_id:
                ticket.channel_id = ticket.order_id.oms_channel_id

    @api.depends("order_id.oms_step", "order_id.oms_ship_by")
    @api.depends_context("lang")  # canned replies read them in the customer's language
    def _compute_order_live(self):
        steps = dict(self.env["sale.order"]._fields["oms_step"]._description_selection(self.env))
        for ticket in self:
            order = ticket.order_id
            ticket.order_step_label = steps.get(order.oms_step, "") if order else ""
            ticket.order_expected_text = ticket._oms_expected_text() if order else ""
            parcels = order.sudo().oms_tracking() if order else []
            ticket.order_tracking_html = Markup("<br/>").join(
                Markup('<a href="%s" target="_blank">%s %s</a>') % (p["url"], p["carrier"], p["number"])
                if p["url"]
                else escape(f"{p['carrier']} {p['number']}")
                for p in parcels
            )

    def _oms_expected_text(self):
        """What the customer can expect next, in words, from the order's live state."""
        order = self.order_id
        fmt = lambda dt: fields.Date.to_string(fields.Datetime.context_timestamp(self, dt).date()) if dt else ""  # noqa: E731
        pickings = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state == "done")
        if order.oms_step == "delivered":
            return self.env._("Delivered on %(date)s.", date=fmt(order.oms_delivered_at))
        if order.oms_step == "shipped" and pickings:
            return self.env._("Shipped on %(date)s.", date=fmt(max(pickings.mapped("date_done"))))
        if order.oms_step == "cancelled":
            return self.env._("The order was cancelled.")
        if order.oms_ship_by:
            return self.env._("It ships by %(date)s.", date=fmt(order.oms_ship_by))
        return ""

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    # ------------------------------------------------------------------ create / write

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("company_id") and vals.get("team_id"):
                # A ticket from a team's alias belongs to the team's company (not the gateway's).
                vals["company_id"] = self.env["oms.ticket.team"].browse(vals["team_id"]).company_id.id
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
            if "team_id" not in vals and company != self.env.company:
                # The default team is the current company's: a ticket of another company gets one of its own.
                vals["team_id"] = self.with_company(company)._default_team().id
            vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("oms.ticket") or "/"
            if vals.get("partner_id") and not vals.get("email_from"):
                vals["email_from"] = self.env["res.partner"].browse(vals["partner_id"]).email
            if vals.get("user_id") and vals.get("stage", "new") == "new":
                vals["stage"] = "in_progress"
        tickets = super().create(vals_list)
        for partner, partner_tickets in tickets.grouped("partner_id").items():
            if partner:
                partner_tickets.message_subscribe(partner_ids=partner.ids)
        if not self.env.context.get("oms_no_ack"):
            tickets._oms_send_ack()
        tickets._oms_sla_refresh()
        return tickets

    def write(self, vals):
        if "stage" not in vals:
            result = super().write(vals)
            if vals.keys() & {"category", "priority", "team_id", "sla_id"}:
                self._oms_sla_refresh()
            return result
        now = fields.Datetime.now()
        new_stage = vals["stage"]
        before = {ticket: (ticket.stage, ticket.waiting_since) for ticket in self}
        result = super().write(vals)
        for ticket in self:
            old_stage, waiting_since = before[ticket]
            if old_stage == new_stage:
                continue
            extra = {}
            paused_states = ("waiting", *DONE_STAGES)
            if old_stage in paused_states and new_stage not in paused_states and waiting_since:
                # The clock stood still while the customer had the ball (waiting, or solved then reopened).
                pause = ticket._oms_work_hours(waiting_since, now)
                extra["paused_hours"] = ticket.paused_hours + pause
                if not ticket.first_response_at:
                    extra["response_paused_hours"] = ticket.response_paused_hours + pause
                extra["waiting_since"] = False
            if new_stage in paused_states and old_stage not in paused_states:
                extra["waiting_since"] = now
            if new_stage in DONE_STAGES and old_stage not in DONE_STAGES:
                extra["solved_at"] = now
            elif new_stage not in DONE_STAGES and old_stage in DONE_STAGES:
                extra.update(solved_at=False, sla_warned=False)
            if extra:
                super(OmsTicket, ticket).write(extra)
            if new_stage in DONE_STAGES and old_stage not in DONE_STAGES:
                # Deadlines moved with the pause above: the resolution time excludes it too.
                spent = ticket._oms_work_hours(ticket.opened_at, now) - ticket.paused_hours
                super(OmsTicket, ticket).write({"resolution_hours": max(spent, 0.0)})
        self._oms_sla_refresh(now)
        return result

    # ------------------------------------------------------------------ actions

    def action_assign_to_me(self):
        self.write({"user_id": self.env.user.id})
        self.filtered(lambda t: t.stage == "new").write({"stage": "in_progress"})

    def action_set_waiting(self):
        self.write({"stage": "waiting"})

    def action_solve(self):
        self.write({"stage": "solved"})

    def action_close(self):
        self.write({"stage": "closed"})

    def action_reopen(self):
        self.write({"stage": "in_progress"})

    def _oms_suggested_template(self):
        self.ensure_one()
        templates = self.env["mail.template"].search(
            [("model", "=", "oms.ticket"), ("oms_canned", "=", True)], order="oms_ticket_category, id"
        )
        return (
            templates.filtered(lambda t: t.oms_ticket_category == self.category)[:1]
            or templates.filtered(lambda t: not t.oms_ticket_category)[:1]
        )

    def action_canned_reply(self):
        """Open the composer with the canned reply of the ticket's category, filled in from the live order."""
        self.ensure_one()
        template = self._oms_suggested_template()
        action = self.env["ir.actions.act_window"]._for_xml_id("mail.action_email_compose_message_wizard")
        action["name"] = self.env._("Reply to %(ticket)s", ticket=self.name)
        action["context"] = {
            "default_model": self._name,
            "default_res_ids": self.ids,
            "default_composition_mode": "comment",
            "default_template_id": template.id,
            "default_subtype_xmlid": "mail.mt_comment",
            "default_partner_ids": self.partner_id.ids,
        }
        return action

    def action_open_order(self):
        """The ticket's order: Odoo's order form for the order desk, the read-only customer service form for
        agents without sales rights (Odoo's form reads stock moves and invoices they may not read)."""
        self.ensure_one()
        action = self.order_id.get_formview_action()
        if not self.env.user.has_group("sales_team.group_sale_salesman"):
            action["views"] = [(self.env.ref("oms_ecommerce.sale_order_view_form_oms_service").id, "form")]
        return action
