from odoo import api, fields, models


class OmsTicket(models.Model):
    _inherit = "oms.ticket"

    response_compliance = fields.Float(
        string="First Response on Time (%)",
        compute="_compute_response_compliance",
        store=True,
        aggregator="avg",
        help="100 for a ticket first answered by its response deadline, 0 for one answered late. Averaged over "
        "answered tickets only (the Ticket First Response report keeps those), it is the share answered in time.",
    )

    @api.depends("first_response_at", "response_deadline")
    def _compute_response_compliance(self):
        for ticket in self:
            met = ticket.first_response_at and (
                not ticket.response_deadline or ticket.first_response_at <= ticket.response_deadline
            )
            ticket.response_compliance = 100.0 if met else 0.0
