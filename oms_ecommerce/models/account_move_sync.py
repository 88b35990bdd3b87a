from odoo import fields, models

from ..tools import platform_push
from ..tools.platform_push import PushError


class AccountMove(models.Model):
    """The credit note that refunds a channel order's received returns is pushed to the platform once, by one
    job: Shopify gets a ``refundCreate`` of the credited quantities with the credit note's amount on the order's
    payment, WooCommerce a refund of the credited lines for that amount. The platform's refund id is kept on
    the credit note: a rerun never refunds twice. A credit note prepared for a refund made on the platform
    (``oms_platform_refund_id``) is never pushed back."""

    _name = "account.move"
    _inherit = ["account.move", "oms.sync.mixin"]

    oms_pushed_refund_id = fields.Char(
        string="Refund Pushed to the Channel",
        readonly=True,
        copy=False,
        help="The platform's id of the refund this credit note was pushed as (Shopify, WooCommerce): a credit note "
        "is never pushed twice.",
    )

    def _oms_refund_order(self):
        """The channel order this credit note credits."""
        self.ensure_one()
        return self.sudo().invoice_line_ids.sale_line_ids.order_id[:1]

    def _oms_refunds_to_push(self):
        """The posted credit notes of channel orders that the platform has not got yet and did not make."""
        moves = self.browse()
        for move in self.sudo():
            if (
                move.move_type != "out_refund"
                or move.state != "posted"
                or move.oms_platform_refund_id
                or move.oms_pushed_refund_id
            ):
                continue
            order = move._oms_refund_order()
            if order.oms_external_id and order.oms_channel_id and order.oms_channel_id._oms_pushes("refunds"):
                moves |= move
        return self.browse(moves.ids)

    def _oms_push_refunds(self):
        """Enqueue the push of these credit notes (those that are due): a push that fails later never blocks
        or rolls back the credit note."""
        to_push = self._oms_refunds_to_push()
        to_push.sudo().write({"oms_sync_state": "pending", "oms_sync_error": False})
        to_push._oms_sync_enqueue()
        return to_push

    # ------------------------------------------------------------- sync mixin

    def _oms_sync_channel(self):
        return self._oms_refund_order().oms_channel_id

    def _oms_sync_identity_keys(self):
        return [f"oms-refund:{move.id}" for move in self]

    def _oms_sync_activity_record(self):
        return self.sudo().invoice_line_ids.sale_line_ids.order_id

    def _oms_sync_enqueue(self):
        for move in self:
            channel = move._oms_sync_channel()
            move._oms_sync_delay(
                channel,
                f"oms-refund:{move.id}",
                self.env._("Refund %(credit_note)s to %(channel)s", credit_note=move.name, channel=channel.name),
            )._oms_job_push_refund()

    # ------------------------------------------------------------- the job

    def _oms_job_push_refund(self):
        """Job: push this credit note to its platform as a refund (nothing when it already went)."""
        self.ensure_one()
        move = self.sudo()
        if move.oms_pushed_refund_id:
            return f"already pushed: {move.oms_pushed_refund_id}"
        if move.oms_platform_refund_id:
            return "made on the platform: not pushed back"
        if move.state != "posted":
            return "not posted"
        channel = move._oms_sync_channel()
        order = move._oms_refund_order()
        state, platform_id, money = self._oms_sync_call(move._oms_push_refund, channel)
        move.oms_pushed_refund_id = platform_id or "already"
        if state != "created":
            message = self.env._("%(channel)s had already refunded these items.", channel=channel.name)
        elif money:
            message = self.env._(
                "Refund pushed to %(channel)s (%(id)s): %(amount)s refunded on the order's payment.",
                channel=channel.name,
                id=platform_id,
                amount=order._oms_format_amount(float(money)),
            )
        elif channel.platform == "woocommerce":
            message = self.env._(
                "Refund recorded on %(channel)s (%(id)s). Refund the money (%(amount)s) on the payment gateway: the "
                "channel does not let WooCommerce refund it.",
                channel=channel.name,
                id=platform_id,
                amount=order._oms_format_amount(move.amount_total),
            )
        else:
            message = self.env._(
                "Refund pushed to %(channel)s (%(id)s) for the items: Shopify holds no payment of this order to "
                "refund, refund the money (%(amount)s) outside Shopify.",
                channel=channel.name,
                id=platform_id,
                amount=order._oms_format_amount(move.amount_total),
            )
        move._oms_sync_done(message)
        return f"{state}: {platform_id}"

    def _oms_refund_items(self):
        """{sku: [quantity, total without tax]} of the products this credit note credits (shipping and other
        service lines are in the amount, not in the items)."""
        self.ensure_one()
        items = {}
        lines = self.invoice_line_ids.filtered(
            lambda line: line.display_type == "product" and line.product_id and line.product_id.type != "service"
        )
        for line in lines:
            sku = (line.product_id.default_code or "").strip()
            if not sku:
                raise PushError(
                    self.env._(
                        "%(product)s has no SKU (Internal Reference): the platform cannot tell which line is refunded. "
                        "Set the product's SKU as on the channel, then retry.",
                        product=line.product_id.display_name,
                    )
                )
            quantity = line.product_uom_id._compute_quantity(line.quantity, line.product_id.uom_id)
            item = items.setdefault(sku, [0.0, 0.0])
            item[0] += quantity
            item[1] += line.price_subtotal
        return {
            sku: (round(qty), self.currency_id.round(total)) for sku, (qty, total) in items.items() if round(qty) > 0
        }

    def _oms_push_refund(self, channel):
        self.ensure_one()
        order = self._oms_refund_order()
        items = self._oms_refund_items()
        currency = self.currency_id
        amount = f"{currency.round(self.amount_total):.{currency.decimal_places}f}"
        note = self.env._(
            "Return of order %(order)s credited in Odoo by %(credit_note)s.", order=order.name, credit_note=self.name
        )
        client = channel._oms_platform_client()
        if channel.platform == "shopify":
            return platform_push.shopify_refund(
                client,
                order.oms_external_id,
                {sku: qty for sku, (qty, __) in items.items()},
                amount,
                note,
                self.name,
                notify=not channel.notify_returns,
            )
        return platform_push.woo_refund(
            client, order.oms_external_id, items, amount, note, self.name, channel.woo_api_refund
        )
