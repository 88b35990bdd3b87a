import re

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import html2plaintext

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
    _description = "Customer Service Ticket"
    _inherit = ["portal.mixin", "mail.thread.cc", "mail.activity.mixin"]
    _order = "priority desc, id desc"
    _primary_email = "email_from"
    _mail_post_access = "read"

    name = fields.Char(string="Number", readonly=True, copy=False, default="/", index="trigram")
    subject = fields.Char(required=True, tracking=True)
    description = fields.Html(sanitize_style=True)
    partner_id = fields.Many2one("res.partner", string="Customer", tracking=True, index=True)
    email_from = fields.Char(string="Email", help="The address the customer wrote from.")
    order_id = fields.Many2one(
        "sale.order",
        string="Order",
        tracking=True,
        index="btree_not_null",
        domain="[('oms_channel_id', '!=', False)]",
    )
    picking_id = fields.Many2one(
        "stock.picking",
        string="Delivery",
        domain="[('sale_id', '=', order_id), ('picking_type_code', '=', 'outgoing')]",
    )
    channel_id = fields.Many2one(
        "oms.channel", compute="_compute_channel_id", store=True, readonly=False, index="btree_not_null"
    )
    category = fields.Selection(TICKET_CATEGORIES, required=True, default="other", tracking=True)
    priority = fields.Selection(TICKET_PRIORITIES, required=True, default="1", tracking=True)
    stage = fields.Selection(
        TICKET_STAGES, required=True, default="new", tracking=True, index=True, group_expand=True, copy=False
    )
    team_id = fields.Many2one(
        "oms.ticket.team", string="Team", default=lambda self: self._default_team(), tracking=True, index=True
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned to",
        tracking=True,
        index=True,
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
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

    # Service level
    sla_id = fields.Many2one(
        "oms.ticket.sla", string="Service Level", compute="_compute_sla_id", store=True, readonly=False
    )
    opened_at = fields.Datetime(string="Opened", default=fields.Datetime.now, readonly=True, copy=False)
    response_deadline = fields.Datetime(compute="_compute_deadlines", store=True, string="First Response Due")
    resolve_deadline = fields.Datetime(compute="_compute_deadlines", store=True, string="Resolution Due")
    response_risk_at = fields.Datetime(compute="_compute_deadlines", store=True)
    resolve_risk_at = fields.Datetime(compute="_compute_deadlines", store=True)
    first_response_at = fields.Datetime(string="First Response", readonly=True, copy=False)
    solved_at = fields.Datetime(string="Solved", readonly=True, copy=False)
    waiting_since = fields.Datetime(readonly=True, copy=False)
    paused_hours = fields.Float(
        string="Paused (working hours)", readonly=True, copy=False, help="Working hours spent waiting for the customer."
    )
    response_paused_hours = fields.Float(
        readonly=True, copy=False, help="Working hours spent waiting for the customer before the first answer."
    )
    response_hours = fields.Float(
        string="First Response Time (working hours)", readonly=True, copy=False, aggregator="avg"
    )
    resolution_hours = fields.Float(
        string="Resolution Time (working hours)", readonly=True, copy=False, aggregator="avg"
    )
    sla_at_risk = fields.Boolean(string="SLA at Risk", readonly=True, copy=False, index=True)
    sla_breached = fields.Boolean(string="SLA Breached", readonly=True, copy=False, index=True)
    sla_status = fields.Selection(
        [("running", "Running"), ("met", "Met"), ("breached", "Breached")],
        string="SLA Status",
        readonly=True,
        copy=False,
        index=True,
    )
    sla_compliance = fields.Float(
        string="SLA Compliance (%)",
        readonly=True,
        copy=False,
        aggregator="avg",
        help="100 for a ticket solved within its targets, 0 for a breached one; empty (not averaged) while it runs.",
    )
    sla_warned = fields.Boolean(readonly=True, copy=False)
    sla_escalated = fields.Boolean(readonly=True, copy=False)

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

    @api.depends("category", "priority", "team_id", "company_id")
    def _compute_sla_id(self):
        policies = self.env["oms.ticket.sla"]._oms_policies_for(self)
        for ticket in self:
            ticket.sla_id = policies[ticket]

    @api.depends("sla_id", "opened_at", "paused_hours", "response_paused_hours")
    def _compute_deadlines(self):
        """Deadlines are promises: editing a policy's targets or a calendar later applies to new tickets and
        to the next change of a ticket's policy or pause, not to every stored ticket at once."""
        # Tickets opened together (an import, a busy minute) share their deadlines: plan each once.
        planned = {}
        for ticket in self:
            sla, calendar = ticket.sla_id, ticket._oms_calendar()
            if not sla or not calendar or not ticket.opened_at:
                ticket.update(
                    {
                        "response_deadline": False,
                        "resolve_deadline": False,
                        "response_risk_at": False,
                        "resolve_risk_at": False,
                    }
                )
                continue
            key = (sla, calendar, ticket.opened_at, ticket.paused_hours, ticket.response_paused_hours)
            if key not in planned:
                risk = sla.risk_percent / 100.0

                def plan(hours, paused, calendar=calendar, start=ticket.opened_at):
                    return calendar.plan_hours(hours + paused, start, compute_leaves=True)

                planned[key] = {
                    "response_deadline": plan(sla.response_hours, ticket.response_paused_hours),
                    "resolve_deadline": plan(sla.resolve_hours, ticket.paused_hours),
                    "response_risk_at": plan(sla.response_hours * risk, ticket.response_paused_hours),
                    "resolve_risk_at": plan(sla.resolve_hours * risk, ticket.paused_hours),
                }
            ticket.update(planned[key])

    def _compute_access_url(self):
        result = super()._compute_access_url()
        for ticket in self:
            ticket.access_url = f"/my/tickets/{ticket.id}"
        return result

    def _oms_calendar(self):
        self.ensure_one()
        return self.team_id.resource_calendar_id or self.company_id.resource_calendar_id

    def _oms_work_hours(self, start, end):
        """Working hours of the ticket's calendar between two UTC datetimes."""
        self.ensure_one()
        calendar = self._oms_calendar()
        if not calendar or not start or not end or end <= start:
            return 0.0
        return calendar.get_work_hours_count(start, end, compute_leaves=True)

    # ------------------------------------------------------------------ create / write

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("company_id") and vals.get("team_id"):
                # A ticket from a team's alias belongs to the team's company (not the gateway's).
                vals["company_id"] = self.env["oms.ticket.team"].browse(vals["team_id"]).company_id.id
            company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
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

    # ------------------------------------------------------------------ service level

    def _oms_sla_state(self, now):
        """(at risk, breached) of the ticket at ``now``: a waiting ticket's clock is stopped."""
        self.ensure_one()
        if not self.sla_id or not self.resolve_deadline:
            return False, False
        if self.stage in DONE_STAGES:
            late_answer = self.first_response_at and self.first_response_at > self.response_deadline
            return False, bool(late_answer or (self.solved_at and self.solved_at > self.resolve_deadline))
        if self.stage == "waiting":
            return False, self.sla_breached
        answered = bool(self.first_response_at)
        breached = (
            (not answered and now > self.response_deadline)
            or (answered and self.first_response_at > self.response_deadline)
            or now > self.resolve_deadline
        )
        at_risk = not breached and ((not answered and now >= self.response_risk_at) or now >= self.resolve_risk_at)
        return at_risk, breached

    def _oms_sla_refresh(self, now=None):
        """Store the at-risk and breached flags (and compliance of finished tickets) where they changed."""
        now = now or fields.Datetime.now()
        changes = {}
        for ticket in self:
            at_risk, breached = ticket._oms_sla_state(now)
            values = {}
            if ticket.sla_at_risk != at_risk:
                values["sla_at_risk"] = at_risk
            if ticket.sla_breached != breached:
                values["sla_breached"] = breached
            if not ticket.sla_id:
                status = False
            elif ticket.stage in DONE_STAGES:
                status = "breached" if breached else "met"
            else:
                status = "breached" if breached else "running"
            if ticket.sla_status != status:
                values["sla_status"] = status
            if values:
                changes.setdefault(tuple(sorted(values.items())), []).append(ticket.id)
        for values, ids in changes.items():
            self.browse(ids).write(dict(values))
        # Compliance of finished tickets only: NULL while a ticket runs, so that averages ignore it.
        if self:
            self.env.flush_all()
            self.env.cr.execute(
                """UPDATE oms_ticket t SET sla_compliance = v.compliance,
                          resolution_hours = CASE WHEN t.stage IN %s THEN t.resolution_hours END
                     FROM (SELECT id, CASE WHEN stage IN %s AND sla_status = 'met' THEN 100.0
                                           WHEN stage IN %s AND sla_status = 'breached' THEN 0.0 END AS compliance
                             FROM oms_ticket WHERE id IN %s) v
                    WHERE t.id = v.id
                      AND (t.sla_compliance IS DISTINCT FROM v.compliance
                           OR (t.stage NOT IN %s AND t.resolution_hours IS NOT NULL))""",
                (DONE_STAGES, DONE_STAGES, DONE_STAGES, tuple(self.ids), DONE_STAGES),
            )
            self.invalidate_recordset(["sla_compliance", "resolution_hours"])

    @api.model
    def _cron_oms_sla(self):
        """Refresh the flags of running tickets; warn the team lead once before a breach; escalate once after."""
        now = fields.Datetime.now()
        running = self.search([("stage", "not in", (*DONE_STAGES, "waiting")), ("sla_id", "!=", False)])
        running._oms_sla_refresh(now)
        to_warn = running.filtered(lambda t: t.sla_at_risk and not t.sla_warned and not t.sla_breached)
        for ticket in to_warn:
            lead = ticket.team_id.user_id or ticket.user_id
            deadline = ticket.resolve_deadline if ticket.first_response_at else ticket.response_deadline
            if lead:
                ticket.activity_schedule(
                    "mail.mail_activity_data_todo",
                    date_deadline=fields.Date.context_today(ticket),
                    summary=self.env._("SLA at risk: due %(deadline)s", deadline=fields.Datetime.to_string(deadline)),
                    note=self.env._(
                        "Ticket %(ticket)s is about to miss its service level (%(sla)s).",
                        ticket=ticket.name,
                        sla=ticket.sla_id.name,
                    ),
                    user_id=lead.id,
                )
        to_warn.write({"sla_warned": True})
        to_escalate = running.filtered(lambda t: t.sla_breached and not t.sla_escalated)
        for ticket in to_escalate:
            raised = str(min(int(ticket.priority) + 1, 3))
            # The policy stays the one the ticket was opened under: escalating does not move its deadlines.
            ticket.write({"priority": raised, "sla_escalated": True, "sla_id": ticket.sla_id.id})
            ticket.message_post(
                body=self.env._("Service level breached: priority raised to %(priority)s.", priority=ticket.priority),
                subtype_xmlid="mail.mt_note",
            )
        return len(to_warn), len(to_escalate)

    # ------------------------------------------------------------------ mail

    def _oms_send_ack(self):
        """Acknowledge each ticket once, with its number and the promised response time."""
        template = self.env.ref("oms_ecommerce.mail_template_ticket_ack", raise_if_not_found=False)
        todo = self.filtered(lambda t: not t.ack_sent and t.partner_id.email)
        if not template or not todo:
            return
        for ticket in todo:
            ticket.message_post_with_source(
                template,
                message_type="auto_comment",
                subtype_xmlid="mail.mt_comment",
                partner_ids=ticket.partner_id.ids,
            )
        todo.write({"ack_sent": True})

    @api.model
    def _oms_find_order(self, partner, text):
        """The sender's channel order named in ``text`` by its number or channel id, and other matches."""
        tokens = {t.lstrip("#") for t in ORDER_TOKEN.findall(text or "")[:MAX_ORDER_TOKENS]}
        tokens.discard("")
        if not tokens:
            return self.env["sale.order"], self.env["sale.order"]
        SaleOrder = self.env["sale.order"].sudo()
        domain = [
            ("oms_channel_id", "!=", False),
            "|",
            ("name", "in", list(tokens)),
            ("oms_external_id", "in", list(tokens)),
        ]
        if not partner:
            return self.env["sale.order"], SaleOrder.search(domain, order="id desc", limit=5)
        customer = partner.commercial_partner_id
        mine = SaleOrder.search([*domain, ("partner_id", "child_of", customer.id)], order="id desc", limit=1)
        others = SaleOrder.search(
            [*domain, ("partner_id.commercial_partner_id", "!=", customer.id)], order="id desc", limit=5
        )
        return mine, others

    @api.model
    def _oms_ticket_in_subject(self, partner, subject):
        """The sender's open ticket whose number is in the subject ("[TCK/00042] ..."), if any."""
        numbers = TICKET_NUMBER.findall(subject or "")
        if not numbers or not partner:
            return self.browse()
        return self.search(
            [
                ("name", "in", numbers),
                ("partner_id", "child_of", partner.commercial_partner_id.id),
                ("stage", "!=", "closed"),
            ],
            limit=1,
        )

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        values = dict(custom_values or {})
        email_from = msg_dict.get("email_from")
        partner = self.env["res.partner"].browse(msg_dict.get("author_id")).exists()
        if not partner and email_from:
            partner = self.env["mail.thread"]._partner_find_from_emails_single([email_from], no_create=False)
            msg_dict["author_id"] = partner.id
        existing = self._oms_ticket_in_subject(partner, msg_dict.get("subject"))
        if existing:
            # A new email (not a reply) about a ticket the customer already has: it joins that ticket.
            existing.message_update(msg_dict)
            return existing
        text = "{}\n{}".format(msg_dict.get("subject") or "", html2plaintext(msg_dict.get("body") or ""))
        order, others = self._oms_find_order(partner, text)
        values.setdefault("subject", msg_dict.get("subject") or self.env._("(no subject)"))
        values.setdefault("description", msg_dict.get("body"))
        values["partner_id"] = partner.id
        values["email_from"] = email_from
        if order:
            values["order_id"] = order.id
            values.setdefault("category", "where")
        ticket = super().message_new(msg_dict, custom_values=values)
        if others:
            ticket.message_post(
                body=self.env._(
                    "The email names order(s) %(orders)s of another customer: not linked.",
                    orders=", ".join(others.mapped("name")),
                ),
                subtype_xmlid="mail.mt_note",
            )
        return ticket

    def _message_post_after_hook(self, message, msg_vals):
        result = super()._message_post_after_hook(message, msg_vals)
        if message.message_type not in ("comment", "email") or message.subtype_id != self.env.ref("mail.mt_comment"):
            return result
        author_user = message.author_id.user_ids[:1]
        bot = self.env.ref("base.partner_root", raise_if_not_found=False)
        if author_user and not author_user.share and message.author_id not in (self.partner_id | bot):
            if not self.first_response_at:
                now = fields.Datetime.now()
                self.sudo().write(
                    {
                        "first_response_at": now,
                        "response_hours": max(
                            self._oms_work_hours(self.opened_at, now) - self.response_paused_hours, 0.0
                        ),
                    }
                )
                if self.stage == "new":
                    self.sudo().stage = "in_progress"
                self._oms_sla_refresh(now)
        elif self.stage in ("waiting", "solved"):
            # The customer answered: the clock runs again.
            self.sudo().stage = "in_progress"
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
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Reply to %(ticket)s", ticket=self.name),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_composition_mode": "comment",
                "default_template_id": template.id,
                "default_subtype_xmlid": "mail.mt_comment",
                "default_partner_ids": self.partner_id.ids,
            },
        }

    def action_open_order(self):
        self.ensure_one()
        return self.order_id.get_formview_action()
