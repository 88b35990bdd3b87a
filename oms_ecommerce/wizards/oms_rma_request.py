from odoo import api, fields, models

from ..models.rma import RESOLUTIONS, RETURN_REASONS


class OmsRmaRequest(models.TransientModel):
    """The desk opens a return for the customer, from a ticket or from the order: the same request, rules
    and emails as the customer's portal form."""

    _name = "oms.rma.request"
    _description = "Open a return for a channel order"

    order_id = fields.Many2one("sale.order", required=True, domain="[('oms_channel_id', '!=', False)]")
    ticket_id = fields.Many2one("oms.ticket")
    line_ids = fields.One2many("oms.rma.request.line", "wizard_id", string="Items")
    note = fields.Text(help="Internal note posted on the return.")

    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        order = self.env["sale.order"].browse(values.get("order_id"))
        if not order and values.get("ticket_id"):
            order = self.env["oms.ticket"].browse(values["ticket_id"]).order_id
            values["order_id"] = order.id
        if order and "line_ids" in fields_list:
            values["line_ids"] = [
                fields.Command.create({"sale_line_id": line.id, "returnable_qty": qty, "quantity": 0.0})
                for line, qty in order._oms_returnable_qty().items()
                if qty > 0
            ]
        return values

    def action_request(self):
        self.ensure_one()
        rmas = self.order_id._oms_request_return(
            [
                {
                    "sale_line": line.sale_line_id,
                    "quantity": line.quantity,
                    "reason": line.reason,
                    "resolution": line.resolution,
                    "exchange_product": line.exchange_product_id,
                    "comment": line.comment,
                }
                for line in self.line_ids
            ],
            description=self.note or "",
            ticket=self.ticket_id,
        )
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.rma_action_oms")
        action.update(res_id=rmas[0].id, view_mode="form", views=[(False, "form")])
        return action


class OmsRmaRequestLine(models.TransientModel):
    _name = "oms.rma.request.line"
    _description = "Item of a return opened by the desk"

    wizard_id = fields.Many2one("oms.rma.request", required=True, ondelete="cascade")
    sale_line_id = fields.Many2one("sale.order.line", string="Item", required=True)
    product_id = fields.Many2one(related="sale_line_id.product_id")
    returnable_qty = fields.Float(string="Returnable", readonly=True, digits="Product Unit of Measure")
    quantity = fields.Float(digits="Product Unit of Measure")
    reason = fields.Selection(RETURN_REASONS, default="other")
    resolution = fields.Selection(RESOLUTIONS, default="refund")
    exchange_product_id = fields.Many2one("product.product", string="Exchange For")
    comment = fields.Char()
