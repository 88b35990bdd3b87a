from odoo import api, fields, models


class SaleOrder(models.Model):
    _inherit = "sale.order"

    oms_on_time_rate = fields.Float(
        string="On-time Rate (%)",
        compute="_compute_oms_on_time_rate",
        store=True,
        aggregator="avg",
        groups="base.group_user",
        help="100 for an order shipped by its ship-by promise, 0 for one shipped late. Averaged over shipped "
        "orders only (the On-time Shipping report keeps those), it is the share shipped on time.",
    )

    @api.depends("oms_ship_outcome")
    def _compute_oms_on_time_rate(self):
        for order in self:
            order.oms_on_time_rate = 100.0 if order.oms_ship_outcome == "on_time" else 0.0
