from odoo import models


class StockMove(models.Model):
    """Step hook: a reserved delivery's order is processing (the stock push is in ``stock_move_sync.py``)."""

    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        self.picking_id._oms_orders()._oms_reach_steps()  # reserved: processing
        return res
