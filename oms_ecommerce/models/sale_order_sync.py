from odoo import api, fields, models
from odoo.exceptions import UserError

from ..tools import platform_push
from ..tools.platform_push import holds_marker


class SaleOrder(models.Model):
    """An order cancelled here by the desk is cancelled on the platform (Shopify orderCancel, WooCommerce
    status cancelled); one the channel cancelled is never echoed back. The order shows every failed push
    of its own, of its deliveries and of its credit notes (refunds), with a Retry button."""

    _name = "sale.order"
    _inherit = ["sale.order", "oms.sync.mixin"]

    oms_sync_failed = fields.Boolean(
        string="Channel Sync Failed",
        compute="_compute_oms_sync_failed",
        store=True,
        help="A push of this order, of one of its deliveries or of one of its refunds to the channel's platform "
        "failed.",
    )
    oms_sync_problem = fields.Text(string="Channel Sync Problems", compute="_compute_oms_sync_problem")

    @api.depends("oms_sync_state", "picking_ids.oms_sync_state", "order_line.invoice_lines.move_id.oms_sync_state")
    def _compute_oms_sync_failed(self):
        for order in self:
            order.oms_sync_failed = order._oms_sync_has_problem()

    @api.depends(
        "oms_sync_state",
        "oms_sync_error",
        "picking_ids.oms_sync_state",
        "picking_ids.oms_sync_error",
        "order_line.invoice_lines.move_id.oms_sync_state",
        "order_line.invoice_lines.move_id.oms_sync_error",
    )
    def _compute_oms_sync_problem(self):
        for order in self:
            lines = [f"{order.name}: {order.oms_sync_error}"] if order.oms_sync_state == "error" else []
            lines += [f"{p.name}: {p.oms_sync_error}" for p in order.picking_ids if p.oms_sync_state == "error"]
            lines += [
                f"{m.name}: {m.oms_sync_error}" for m in order._oms_synced_credit_notes() if m.oms_sync_state == "error"
            ]
            order.oms_sync_problem = "\n".join(lines) or False

    def _oms_sync_has_problem(self):
        self.ensure_one()
        return (
            self.oms_sync_state == "error"
            or any(p.oms_sync_state == "error" for p in self.picking_ids)
            or any(m.oms_sync_state == "error" for m in self._oms_synced_credit_notes())
        )

    def _oms_synced_credit_notes(self):
        """The credit notes of this order pushed (or to be pushed) to the platform as refunds. The order's users
        see their push state even without accounting rights (the Retry button is theirs)."""
        self.ensure_one()
        return self.sudo().order_line.invoice_lines.move_id.filtered(
            lambda m: m.move_type == "out_refund" and m.oms_sync_state
        )

    # ------------------------------------------------------------- sync mixin

    def _oms_sync_channel(self):
        return self.sudo().oms_channel_id

    def _oms_sync_identity_keys(self):
        return [f"oms-cancel:{order.id}" for order in self]

    def _oms_sync_enqueue(self):
        for order in self:
            channel = order._oms_sync_channel()
            order._oms_sync_delay(
                channel,
                f"oms-cancel:{order.id}",
                self.env._("Cancellation of %(order)s to %(channel)s", order=order.name, channel=channel.name),
            )._oms_job_push_cancel()

    def action_oms_sync_retry(self):
        """Push again what failed: the order's cancellation, its deliveries' shipments and its refunds."""
        pickings = self.picking_ids.filtered(lambda p: p.oms_sync_state == "error")
        orders = self.filtered(lambda o: o.oms_sync_state == "error")
        credit_notes = self.env["account.move"].union(
            *(order._oms_synced_credit_notes().filtered(lambda m: m.oms_sync_state == "error") for order in self)
        )
        if not pickings and not orders and not credit_notes:
            raise UserError(self.env._("Nothing to retry: no push of these orders failed."))
        if pickings:
            pickings.action_oms_sync_retry()
        if orders:
            super(SaleOrder, orders).action_oms_sync_retry()
        if credit_notes:
            # The order desk may not edit invoices: its right on the order is checked, the push is the order's.
            self.check_access("write")
            credit_notes.sudo().action_oms_sync_retry()
        return True

    # ------------------------------------------------------------- refunds

    def _oms_pushed_credit_note(self, refund):
        """The credit note of this order that Odoo pushed as ``refund`` (a refund the platform reports, as
        ``tools.shopify.refund`` returns it), if it is one: named in the refund's note (also before the push's job
        stored the platform's refund id), or by that id."""
        self.ensure_one()
        refund_id = str(refund["id"])
        return self._oms_synced_credit_notes().filtered(
            lambda m: (
                holds_marker(refund.get("note"), m.name)
                or (m.oms_pushed_refund_id and m.oms_pushed_refund_id.rsplit("/", 1)[-1] == refund_id)
            )
        )[:1]

    # ------------------------------------------------------------- cancellations

    def _oms_cancel_from_channel(self):
        return super(SaleOrder, self.with_context(oms_cancel_from_channel=True))._oms_cancel_from_channel()

    def _action_cancel(self):
        to_push = self.browse()
        if not self.env.context.get("oms_cancel_from_channel"):
            to_push = self.filtered(
                lambda o: (
                    o.state != "cancel"
                    and o.oms_external_id
                    and o.sudo().oms_channel_id
                    and o.sudo().oms_channel_id._oms_pushes("cancellations")
                )
            )
        res = super()._action_cancel()
        to_push = to_push.filtered(lambda o: o.state == "cancel")
        # Only enqueued here: a push that fails later never blocks or rolls back the cancellation.
        to_push.sudo().write({"oms_sync_state": "pending", "oms_sync_error": False})
        to_push._oms_sync_enqueue()
        return res

    def _oms_job_push_cancel(self):
        """Job: cancel this order on its platform (nothing when it is no longer cancelled here)."""
        self.ensure_one()
        order = self.sudo()
        if order.state != "cancel":
            return "no longer cancelled in Odoo"
        channel = order.oms_channel_id
        state = self._oms_sync_call(order._oms_push_cancel, channel)
        order._oms_sync_done(
            self.env._("Cancelled on %(channel)s.", channel=channel.name)
            if state != "already"
            else self.env._("%(channel)s had already cancelled the order.", channel=channel.name)
        )
        return state

    def _oms_push_cancel(self, channel):
        self.ensure_one()
        client = channel._oms_platform_client()
        if channel.platform == "shopify":
            return platform_push.shopify_cancel(
                client,
                self.oms_external_id,
                restock=channel.sync_restock,
                refund=channel.sync_refund,
                staff_note=self.env._("Cancelled in Odoo (%(order)s).", order=self.name),
            )
        status = platform_push.woo_set_status(client, self.oms_external_id, "cancelled")
        return "cancelled" if status == "cancelled" else status

    # ------------------------------------------------------------- stock levels

    def _action_confirm(self):
        """The products of a channel order are the SKUs the channel sells: mapped before the delivery
        reserves them, so that the reservation pushes their new level."""
        for order in self.filtered("oms_channel_id"):
            self.env["oms.channel.product"]._oms_map_products(order.sudo().oms_channel_id, order.order_line.product_id)
        return super()._action_confirm()
