from odoo import models


class StockPickingBatch(models.Model):
    _inherit = "stock.picking.batch"

    def action_oms_pack(self):
        """Pack the wave's deliveries one after the other, in the wave's order."""
        return self.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing").action_oms_pack()
