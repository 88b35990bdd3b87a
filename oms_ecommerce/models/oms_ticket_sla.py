from odoo import api, fields, models

from .oms_ticket import TICKET_CATEGORIES, TICKET_PRIORITIES


class OmsTicketSla(models.Model):
    """Service level targets in working hours, for a category and a priority (empty: any)."""

    _name = "oms.ticket.sla"
    _check_company_auto = True
    _description = "Ticket Service Level"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10, help="The first policy that fits a ticket applies.")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    team_id = fields.Many2one("oms.ticket.team", string="Team", help="Any team when empty.", check_company=True)
    category = fields.Selection(TICKET_CATEGORIES, help="Any category when empty.")
    priority = fields.Selection(TICKET_PRIORITIES, help="Any priority when empty.")
    response_hours = fields.Float(string="First Response (working hours)", required=True, default=8.0, aggregator="avg")
    resolve_hours = fields.Float(string="Resolution (working hours)", required=True, default=40.0, aggregator="avg")
    risk_percent = fields.Float(
        string="At Risk After (%)",
        default=80.0,
        help="A ticket is at risk once this share of its target working hours has passed.",
    )

    _oms_positive_targets = models.Constraint(
        "CHECK (response_hours > 0 AND resolve_hours >= response_hours AND risk_percent > 0 AND risk_percent <= 100)",
        "Targets must be positive, the resolution target no shorter than the first response target, "
        "and the risk threshold between 0 and 100 %.",
    )

    def _oms_fits(self, ticket):
        self.ensure_one()
        return (
            self.company_id == ticket.company_id
            and (not self.team_id or self.team_id == ticket.team_id)
            and (not self.category or self.category == ticket.category)
            and (not self.priority or self.priority == ticket.priority)
        )

    @api.model
    def _oms_policies_for(self, tickets):
        """{ticket: the first active policy of its company that fits its team, category and priority}"""
        policies = self.search([("company_id", "in", tickets.company_id.ids)])
        return {ticket: next((sla for sla in policies if sla._oms_fits(ticket)), self.browse()) for ticket in tickets}
