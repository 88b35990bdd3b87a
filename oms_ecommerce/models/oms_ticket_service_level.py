from odoo import api, fields, models

from .oms_ticket import DONE_STAGES


class OmsTicket(models.Model):
    """A ticket's service level: its policy, deadlines planned on the team's working hours, pauses while the
    customer is waited for, at risk and breached flags, and the scheduled action that warns and escalates."""

    _inherit = "oms.ticket"

    sla_id = fields.Many2one(
        "oms.ticket.sla",
        string="Service Level",
        compute="_compute_sla_id",
        store=True,
        readonly=False,
        check_company=True,
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
