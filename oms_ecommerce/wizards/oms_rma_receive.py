from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.rma import CONDITIONS


class OmsRmaReceive(models.TransientModel):
    """The warehouse scans the return label's barcode and receives the parcel: quantity and condition per
    item; resellable items go back to stock, damaged ones to the warehouse's quarantine location."""

    _name = "oms.rma.receive"
    _description = "Receive a returned parcel"

    barcode = fields.Char(help="Scan the return label's barcode (the RMA number).")
    line_ids = fields.One2many(
        "oms.rma.receive.line", "wizard_id", string="Items", compute="_compute_line_ids", store=True, readonly=False
    )

    @api.depends("barcode")
    def _compute_line_ids(self):
        for wizard in self:
            rmas = self.env["rma"]._oms_find_by_barcode(wizard.barcode).filtered(lambda r: r.state == "confirmed")
            if not rmas and self.env.context.get("active_model") == "rma" and not wizard.barcode:
                rmas = self.env["rma"].browse(self.env.context.get("active_ids"))._oms_request()
                rmas = rmas.filtered(lambda r: r.state == "confirmed")
            wizard.line_ids = [fields.Command.clear()] + [
                fields.Command.create({"rma_id": rma.id, "quantity": rma.product_uom_qty, "condition": "resellable"})
                for rma in rmas
            ]

    def action_receive(self):
        self.ensure_one()
        if not self.line_ids:
            raise UserError(
                self.env._("No return waiting for its parcel has the number %(code)s.", code=self.barcode or "")
            )
        self.env["rma"]._oms_receive([(line.rma_id, line.quantity, line.condition) for line in self.line_ids])
        return {"type": "ir.actions.act_window_close"}


class OmsRmaReceiveLine(models.TransientModel):
    _name = "oms.rma.receive.line"
    _description = "Item of a returned parcel"

    wizard_id = fields.Many2one("oms.rma.receive", required=True, ondelete="cascade")
    rma_id = fields.Many2one("rma", string="RMA", required=True)
    product_id = fields.Many2one(related="rma_id.product_id")
    asked_qty = fields.Float(related="rma_id.product_uom_qty", string="Returned")
    quantity = fields.Float(string="Received", digits="Product Unit of Measure")
    condition = fields.Selection(CONDITIONS, required=True, default="resellable")
