from odoo import fields, models


class OmsOrderHold(models.TransientModel):
    _name = "oms.order.hold"
    _description = "Put channel orders on hold"

    order_ids = fields.Many2many(
        "sale.order", default=lambda self: self.env["sale.order"].browse(self.env.context.get("active_ids", []))
    )
    reason = fields.Text(required=True, help="Internal: the customer only sees that the order is on hold.")

    def action_apply(self):
        self.order_ids._oms_hold(self.reason)
        return {"type": "ir.actions.act_window_close"}
