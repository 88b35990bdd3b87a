from odoo import models


class StockMove(models.Model):
    """Moves done, reserved, unreserved or cancelled change what a channel can sell: its stock push is
    enqueued (merged per channel and SKU by the job's identity key)."""

    _inherit = "stock.move"

    def _oms_stock_changed(self):
        if not self:
            return
        warehouses = (self.location_id.warehouse_id | self.location_dest_id.warehouse_id).sudo()
        self.env["oms.channel"]._oms_stock_changed(self.product_id.sudo(), warehouses)

    def _action_done(self, cancel_backorder=False):
        moves = super()._action_done(cancel_backorder=cancel_backorder)
        moves._oms_stock_changed()
        return moves

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        self._oms_stock_changed()
        return res

    def _do_unreserve(self):
        res = super()._do_unreserve()
        self._oms_stock_changed()
        return res

    def _action_cancel(self):
        res = super()._action_cancel()
        self._oms_stock_changed()
        return res
