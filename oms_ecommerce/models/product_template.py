from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    oms_final_sale = fields.Boolean(
        string="Final Sale",
        help="Customers cannot ask for a return of this product on the portal.",
    )
