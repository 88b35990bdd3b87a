from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _oms_is_packed(self):
        """Every product line of this delivery is in a package."""
        self.ensure_one()
        lines = self.move_line_ids.filtered(lambda ml: ml.quantity)
        return bool(lines) and all(ml.result_package_id for ml in lines)

    def _oms_orders(self):
        return self.sale_id.filtered("oms_channel_id")

    def _action_done(self):
        res = super()._action_done()
        orders = self._oms_orders()
        orders._oms_reach_steps()  # shipped, or returned for a return
        orders._oms_on_shipped()
        return res

    def write(self, vals):
        res = super().write(vals)
        if "batch_id" in vals:
            self._oms_orders()._oms_reach_steps()
        if vals.get("carrier_tracking_ref"):
            # The "shipped" email waits for the tracking number: it is known now.
            waiting = self._oms_orders().oms_step_ids.filtered(lambda s: s.notification == "waiting")
            waiting._oms_notify()
        return res


class StockMove(models.Model):
    _inherit = "stock.move"

    def _action_assign(self, force_qty=False):
        res = super()._action_assign(force_qty=force_qty)
        self.picking_id._oms_orders()._oms_reach_steps()  # reserved: processing
        return res


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    def _put_in_pack(self, package_id=False, package_type_id=False, package_name=False):
        package = super()._put_in_pack(
            package_id=package_id, package_type_id=package_type_id, package_name=package_name
        )
        self.picking_id._oms_orders()._oms_reach_steps()
        return package
