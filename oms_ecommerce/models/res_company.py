from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    oms_weight_tolerance_percent = fields.Float(
        string="Weight Tolerance (%)",
        default=10.0,
        help="Default for new channels: how far, in percent, a weighed package may be from its expected weight.",
    )
    oms_weight_tolerance_abs = fields.Float(
        string="Weight Tolerance (absolute)",
        digits="Stock Weight",
        default=0.05,
        help="Default for new channels: how far, in the database's weight unit, a weighed package may be from "
        "its expected weight.",
    )
    oms_return_instructions = fields.Text(
        string="Return Instructions",
        translate=True,
        default=lambda self: self.env._(
            "Not what you expected? Return the items unused within 30 days: open the order on your account page, "
            "choose “Need help with this order?” and we send you a return label."
        ),
    )
