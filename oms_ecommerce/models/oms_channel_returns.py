from odoo import fields, models


class OmsChannel(models.Model):
    """The channel's return policy: the window, the automatic approval rule, the return emails."""

    _inherit = "oms.channel"

    return_window_days = fields.Integer(
        string="Return Window (days)",
        default=30,
        help="How many days after delivery (or shipment, when the delivery is not known) a customer may ask "
        "for a return on the portal.",
    )
    return_auto_approve = fields.Boolean(
        string="Approve Returns Automatically",
        help="Approve a return request at once when it is within the window, holds no final-sale product and the "
        "order's value is under the limit below; otherwise a person approves it.",
    )
    return_auto_approve_max_amount = fields.Monetary(
        string="Automatic Approval Below",
        currency_field="currency_id",
        help="Orders of this value or more are approved by hand. Zero: no limit.",
    )
    notify_returns = fields.Boolean(
        string="Return steps",
        default=True,
        help="Email the customer at each step of a return (requested, approved with the label, refused, "
        "received, refunded or exchanged).",
    )
    rma_ids = fields.One2many("rma", "oms_channel_id", string="Returns")

    _return_window_positive = models.Constraint(
        "CHECK (return_window_days >= 0)", "The return window cannot be negative."
    )
