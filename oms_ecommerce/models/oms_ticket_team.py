import ast

from odoo import api, fields, models


class OmsTicketTeam(models.Model):
    """A customer service team: its mail alias receives customer emails as tickets."""

    _name = "oms.ticket.team"
    _check_company_auto = True
    _description = "Customer Service Team"
    _inherit = ["mail.alias.mixin", "mail.thread"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    user_id = fields.Many2one(
        "res.users",
        string="Team Lead",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        help="Warned when a ticket is about to miss its service level.",
        check_company=True,
    )
    member_ids = fields.Many2many(
        "res.users",
        "oms_ticket_team_member_rel",
        string="Agents",
        domain="[('share', '=', False), ('company_ids', 'in', company_id)]",
        check_company=True,
    )
    resource_calendar_id = fields.Many2one(
        "resource.calendar",
        string="Working Hours",
        help="Service level targets count these working hours; the company's working hours when empty.",
        check_company=True,
    )
    color = fields.Integer()
    alias_id = fields.Many2one(help="Customer emails to this address become tickets of the team.")
    ticket_ids = fields.One2many("oms.ticket", "team_id", string="Tickets")
    open_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    unassigned_ticket_count = fields.Integer(compute="_compute_ticket_counts")
    at_risk_ticket_count = fields.Integer(compute="_compute_ticket_counts")

    @api.depends("ticket_ids.stage", "ticket_ids.user_id", "ticket_ids.sla_at_risk")
    def _compute_ticket_counts(self):
        Ticket = self.env["oms.ticket"]
        open_domain = [("team_id", "in", self.ids), ("stage", "not in", ("solved", "closed"))]
        counts = {}
        for name, domain in (
            ("open", open_domain),
            ("unassigned", [*open_domain, ("user_id", "=", False)]),
            ("at_risk", [*open_domain, "|", ("sla_at_risk", "=", True), ("sla_breached", "=", True)]),
        ):
            counts[name] = dict(Ticket._read_group(domain, ["team_id"], ["__count"]))
        for team in self:
            team.open_ticket_count = counts["open"].get(team, 0)
            team.unassigned_ticket_count = counts["unassigned"].get(team, 0)
            team.at_risk_ticket_count = counts["at_risk"].get(team, 0)

    def _alias_get_creation_values(self):
        values = super()._alias_get_creation_values()
        values["alias_model_id"] = self.env["ir.model"]._get("oms.ticket").id
        if self.id:
            values["alias_defaults"] = defaults = ast.literal_eval(self.alias_defaults or "{}")
            defaults["team_id"] = self.id
        return values

    def _oms_calendar(self):
        self.ensure_one()
        return self.resource_calendar_id or self.company_id.resource_calendar_id

    def action_open_tickets(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_ticket_action")
        action["domain"] = [("team_id", "=", self.id)]
        action["context"] = {"default_team_id": self.id, "search_default_open": 1}
        return action
