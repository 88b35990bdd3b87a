from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError

from .rma import RESOLUTIONS, RETURN_REASONS

RETURNABLE_STEPS = ("shipped", "delivered", "returned")


class SaleOrder(models.Model):
    """Returns and exchanges of channel orders, on OCA's RMA (see ``models/rma.py``)."""

    _inherit = "sale.order"

    oms_return_deadline = fields.Datetime(
        string="Return Until",
        compute="_compute_oms_return_deadline",
        help="The end of the channel's return window: the delivery (or the shipment) plus the window's days.",
    )

    @api.depends("oms_delivered_at", "oms_channel_id.return_window_days", "picking_ids.date_done")
    def _compute_oms_return_deadline(self):
        for order in self:
            start = (order.oms_delivered_at or order._oms_shipped_at()) if order.oms_channel_id else False
            order.oms_return_deadline = (
                start + timedelta(days=order.oms_channel_id.return_window_days) if start else False
            )

    def _oms_derive_step(self):
        """An RMA's received parcel returns the order as Odoo's return picking does."""
        step = super()._oms_derive_step()
        if step not in ("cancelled", "returned") and any(
            move.state == "done" and move.rma_receiver_ids for move in self.picking_ids.move_ids
        ):
            return "returned"
        return step

    # ------------------------------------------------------------------
    # What can be returned
    # ------------------------------------------------------------------
    def _oms_return_problem(self):
        """None when the customer may ask for a return of this order now, else why not (for them to read)."""
        self.ensure_one()
        if not self.oms_channel_id:
            return self.env._("Only orders of a sales channel are returned here.")
        if self.oms_step not in RETURNABLE_STEPS:
            return self.env._("An order can be returned once it has been shipped.")
        deadline = self.oms_return_deadline
        if not deadline or fields.Datetime.now() >= deadline:
            return self.env._(
                "The return window of this order (%(days)s days after delivery) is over.",
                days=self.oms_channel_id.return_window_days,
            )
        return None

    def _oms_returnable_qty(self):
        """{sale.order.line: quantity the customer may still return}: what was delivered, less what came
        back by Odoo's return pickings and what is in an RMA that is not cancelled."""
        self.ensure_one()
        lines = self.order_line.filtered(
            lambda sol: sol.qty_delivered_method == "stock_move" and not sol.is_delivery and not sol.display_type
        )
        open_rmas = self.env["rma"].sudo().search([("sale_line_id", "in", lines.ids), ("state", "!=", "cancelled")])
        result = {}
        for line in lines:
            outgoing, incoming = line.sudo()._get_outgoing_incoming_moves()
            uom = line.product_uom_id
            delivered = sum(m.product_uom._compute_quantity(m.quantity, uom) for m in outgoing if m.state == "done")
            returned = sum(
                m.product_uom._compute_quantity(m.quantity, uom)
                for m in incoming
                if m.state == "done" and not m.rma_receiver_ids
            )
            in_rma = sum(
                r.product_uom._compute_quantity(r.product_uom_qty, uom) for r in open_rmas if r.sale_line_id == line
            )
            result[line] = max(delivered - returned - in_rma, 0.0)
        return result

    # ------------------------------------------------------------------
    # The customer (or the desk) asks
    # ------------------------------------------------------------------
    def _oms_request_return(self, lines, description="", ticket=None, from_portal=False):
        """Create the RMAs of a return request and tell the customer; approve it if the channel's rule says so.

        ``lines``: [{"sale_line": sale.order.line, "quantity": float, "reason": str, "resolution": str,
        "exchange_product": product.product (optional), "comment": str}]. Returns the RMAs (the first is the
        request's, the number on its label). Checks the window, final-sale products and quantities first:
        the order is locked so that two requests at once cannot both return the same items."""
        self.ensure_one()
        problem = self._oms_return_problem()
        if problem:
            raise UserError(problem)
        self._oms_lock()
        returnable = self._oms_returnable_qty()
        wizard_lines = self._oms_check_return_lines(lines, returnable)
        # rma_sale's wizard prepares the RMAs from the order lines as the desk's "Create RMA" does.
        wizard = (
            self.env["sale.order.rma.wizard"]
            .sudo()
            .with_context(active_id=self.id)
            .create(self._prepare_oms_return_wizard_values(wizard_lines, returnable))
        )
        rmas = wizard.create_rma(from_portal=from_portal)
        for rma, (item, _line, _qty, _move) in zip(rmas, wizard_lines, strict=True):
            rma.write(self._prepare_oms_return_rma_values(item, rmas[0] if rma != rmas[0] else False, ticket))
        lead = rmas[0]
        if description:
            lead.message_post(body=description, subtype_xmlid="mail.mt_note")
        for rma in rmas:  # the customer follows each line: OCA's portal rule shows followed RMAs
            rma._add_message_subscribe_partner()
        lead._oms_record_rma_step("requested")
        if not lead._oms_auto_approve_problem():
            rmas._oms_approve()
        return rmas

    def _oms_check_return_lines(self, lines, returnable):
        """The requested lines that return something, as (item, sale line, quantity, delivery move); a clear
        error for an item of another order, a final sale, too many items or a missing reason or resolution."""
        reasons, resolutions = dict(RETURN_REASONS), dict(RESOLUTIONS)
        wizard_lines = []
        for item in lines:
            line, qty = item["sale_line"], item["quantity"]
            if line.order_id != self or line not in returnable:
                raise UserError(
                    self.env._("%(line)s is not an item of this order that can be returned.", line=line.display_name)
                )
            if line.product_uom_id.compare(qty, 0.0) <= 0:
                continue
            product = line.product_id
            if product.oms_final_sale:
                raise UserError(
                    self.env._("%(product)s is a final sale: it cannot be returned.", product=product.display_name)
                )
            if line.product_uom_id.compare(qty, returnable[line]) > 0:
                raise UserError(
                    self.env._(
                        "At most %(qty)s of %(product)s can be returned (delivered and not returned yet).",
                        qty=returnable[line],
                        product=product.display_name,
                    )
                )
            if item.get("reason") not in reasons or item.get("resolution") not in resolutions:
                raise UserError(
                    self.env._(
                        "Choose a reason and a refund or an exchange for %(product)s.", product=product.display_name
                    )
                )
            move = line.sudo().get_delivery_move()[:1]
            wizard_lines.append((item, line, qty, move))
        if not wizard_lines:
            raise UserError(self.env._("Enter the quantity of at least one item to return."))
        return wizard_lines

    def _prepare_oms_return_wizard_values(self, wizard_lines, returnable):
        """The values of rma_sale's wizard (``sale.order.rma.wizard``) for the checked lines."""
        operations = {
            "refund": self.env.ref("oms_ecommerce.rma_operation_oms_refund"),
            "exchange": self.env.ref("oms_ecommerce.rma_operation_oms_exchange"),
        }
        order = self.sudo()
        return {
            "order_id": order.id,
            "location_id": order.warehouse_id.rma_loc_id.id,
            "line_ids": [
                fields.Command.create(
                    {
                        "order_id": order.id,
                        "product_id": line.product_id.id,
                        "quantity": qty,
                        "allowed_quantity": returnable[line],
                        "uom_id": line.product_uom_id.id,
                        "sale_line_id": line.id,
                        "picking_id": move.picking_id.id,
                        "operation_id": operations[item["resolution"]].id,
                        "description": item.get("comment") or "",
                    }
                )
                for item, line, qty, move in wizard_lines
            ],
        }

    def _prepare_oms_return_rma_values(self, item, lead, ticket):
        """What the OMS adds to an RMA the wizard created: the requested line's reason and resolution, the
        request's first RMA (``lead``, False for that one) and the ticket it came from."""
        return {
            "oms_reason": item["reason"],
            "oms_resolution": item["resolution"],
            "oms_exchange_product_id": item.get("exchange_product") and item["exchange_product"].id,
            "oms_lead_id": lead.id if lead else False,
            "oms_ticket_id": ticket.id if ticket else False,
            "origin": self.name,
        }

    # ------------------------------------------------------------------
    # Refund: the order's credit of returned quantities
    # ------------------------------------------------------------------
    def _oms_credit_returns(self):
        """The credit note of the returned quantities also refunds the received RMAs it credits."""
        refund = super()._oms_credit_returns()
        if refund:
            rmas = (
                self.env["rma"]
                .sudo()
                .search(
                    [
                        ("order_id", "=", self.id),
                        ("state", "=", "received"),
                        ("oms_resolution", "=", "refund"),
                        ("refund_id", "=", False),
                    ]
                )
            )
            credited = refund.invoice_line_ids.sale_line_ids
            rmas.filtered(lambda r: r.sale_line_id in credited)._oms_mark_refunded(refund)
        return refund

    def action_oms_open_returns(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.rma_action_oms")
        action["domain"] = [("order_id", "=", self.id)]
        action["context"] = {"default_order_id": self.id}
        return action


class SaleOrderLine(models.Model):
    _inherit = "sale.order.line"

    def _get_rma_allowed_quantity(self, vals=None):
        """rma_sale's portal form: a channel order's line allows what was delivered and not returned yet."""
        if self.order_id.oms_channel_id:
            return self.order_id._oms_returnable_qty().get(self, 0.0)
        return super()._get_rma_allowed_quantity(vals)
