from odoo import fields, models

STEPS = [
    ("received", "Received"),
    ("confirmed", "Confirmed"),
    ("processing", "Processing"),
    ("packed", "Packed"),
    ("shipped", "Shipped"),
    ("delivered", "Delivered"),
    ("on_hold", "On Hold"),
    ("delayed", "Delayed"),
    ("cancelled", "Cancelled"),
    ("returned", "Returned"),
]


class OmsOrderStep(models.Model):
    _name = "oms.order.step"
    _description = "Step reached by a channel order"
    _order = "at, id"

    order_id = fields.Many2one("sale.order", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="order_id.company_id", store=True)
    step = fields.Selection(STEPS, required=True)
    at = fields.Datetime(required=True, default=fields.Datetime.now)

    _order_step_uniq = models.Constraint("UNIQUE (order_id, step)", "Each step of an order is recorded once.")
