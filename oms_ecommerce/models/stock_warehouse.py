from odoo import fields, models


class StockWarehouse(models.Model):
    _inherit = "stock.warehouse"

    oms_quarantine_location_id = fields.Many2one(
        "stock.location",
        string="Returns Quarantine",
        check_company=True,
        domain="[('usage', '=', 'internal')]",
        help="Where damaged returned items go (not available for sale). Created on the first damaged return.",
    )

    def _oms_quarantine_location(self):
        """The warehouse's quarantine location for damaged returns, created under the warehouse if missing.

        An internal location, not a scrap one: the return still counts as returned for the order and its
        credit note; scrapping the items from there is the warehouse's decision."""
        self.ensure_one()
        if not self.oms_quarantine_location_id:
            self.sudo().oms_quarantine_location_id = (
                self.env["stock.location"]
                .sudo()
                .create(
                    {
                        "name": self.env._("Returns Quarantine"),
                        "usage": "internal",
                        "location_id": self.view_location_id.id,
                        "company_id": self.company_id.id,
                    }
                )
            )
        return self.oms_quarantine_location_id
