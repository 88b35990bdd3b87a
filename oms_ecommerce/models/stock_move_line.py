from odoo import models


class StockMoveLine(models.Model):
    _inherit = "stock.move.line"

    def _put_in_pack(self, package_id=False, package_type_id=False, package_name=False):
        package = super()._put_in_pack(
            package_id=package_id, package_type_id=package_type_id, package_name=package_name
        )
        self.picking_id._oms_orders()._oms_reach_steps()
        return package

    def _oms_take(self, quantity):
        """This line, or a new line split off it, holding exactly ``quantity`` (for one parcel)."""
        self.ensure_one()
        if self.product_uom_id.compare(quantity, self.quantity) >= 0:
            return self
        # Lower the reservation first, then reserve the split-off part again.
        self.quantity -= quantity
        return self.copy({"quantity": quantity, "move_id": self.move_id.id, "result_package_id": False})
