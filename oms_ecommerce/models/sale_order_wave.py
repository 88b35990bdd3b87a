from odoo import models
from odoo.exceptions import UserError


class SaleOrder(models.Model):
    """*Add to Wave* on a selection of channel orders (their deliveries into a wave)."""

    _inherit = "sale.order"

    def action_oms_add_to_wave(self):
        """Odoo's "Add to batch" for the ready deliveries of the selected orders."""
        pickings = self.picking_ids.filtered(
            lambda p: p.picking_type_code == "outgoing" and p.state == "assigned" and not p.batch_id
        )
        if not pickings:
            raise UserError(self.env._("None of these orders has a ready delivery outside a wave."))
        action = self.env["ir.actions.actions"]._for_xml_id(
            "stock_picking_batch.stock_picking_to_batch_action_stock_picking"
        )
        action["context"] = {"active_model": "stock.picking", "active_ids": pickings.ids}
        return action
