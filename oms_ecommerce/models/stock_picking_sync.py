from odoo import fields, models

from ..tools import platform_push
from ..tools.platform_push import PushError


class StockPicking(models.Model):
    """A shipped channel delivery is pushed to the platform once, by one job: Shopify gets a fulfillment of
    exactly the shipped quantities with every parcel's tracking number and link; WooCommerce an order note
    with the carrier and the tracking links, and the status completed once the order's last delivery left."""

    _name = "stock.picking"
    _inherit = ["stock.picking", "oms.sync.mixin"]

    oms_platform_fulfillment_id = fields.Char(
        string="Platform Fulfillment",
        readonly=True,
        copy=False,
        help="The platform's id of this delivery's fulfillment (Shopify) or tracking note (WooCommerce): a delivery "
        "is never pushed twice.",
    )

    def _action_done(self):
        res = super()._action_done()
        to_push = self._oms_to_push()
        # Only enqueued here: a push that fails later never blocks or rolls back the validation.
        to_push.sudo().write({"oms_sync_state": "pending", "oms_sync_error": False})
        to_push._oms_sync_enqueue()
        return res

    def _oms_to_push(self):
        """The shipped channel deliveries whose platform has not got them yet."""
        return self.filtered(
            lambda p: (
                p.state == "done"
                and p.picking_type_code == "outgoing"
                and not p.oms_platform_fulfillment_id
                and p.sale_id.oms_external_id
                and p.sale_id.sudo().oms_channel_id
                and p.sale_id.sudo().oms_channel_id._oms_pushes("shipments")
            )
        )

    # ------------------------------------------------------------- sync mixin

    def _oms_sync_channel(self):
        return self.sale_id.sudo().oms_channel_id

    def _oms_sync_identity_keys(self):
        return [f"oms-ship:{picking.id}" for picking in self]

    def _oms_sync_activity_record(self):
        return self.sale_id

    def _oms_sync_enqueue(self):
        for picking in self:
            channel = picking._oms_sync_channel()
            picking._oms_sync_delay(
                channel,
                f"oms-ship:{picking.id}",
                self.env._("Shipment %(picking)s to %(channel)s", picking=picking.name, channel=channel.name),
            )._oms_job_push_shipment()

    # ------------------------------------------------------------- the job

    def _oms_job_push_shipment(self):
        """Job: push this shipped delivery to its platform (nothing when it already went)."""
        self.ensure_one()
        picking = self.sudo()
        if picking.oms_platform_fulfillment_id:
            return f"already pushed: {picking.oms_platform_fulfillment_id}"
        if picking.state != "done":
            return "not shipped"
        channel = picking._oms_sync_channel()
        state, platform_id = self._oms_sync_call(picking._oms_push_shipment, channel)
        picking.oms_platform_fulfillment_id = platform_id or "already"
        picking._oms_sync_done(
            self.env._("Shipment pushed to %(channel)s (%(id)s).", channel=channel.name, id=platform_id)
            if state == "created"
            else self.env._("%(channel)s already had this shipment.", channel=channel.name)
        )
        return f"{state}: {platform_id}"

    def _oms_shipped_quantities(self):
        """{sku: quantity} this delivery shipped, in the products' units."""
        self.ensure_one()
        quantities = {}
        for move in self.move_ids.filtered(lambda m: m.state == "done" and m.product_id.type != "service"):
            sku = (move.product_id.default_code or "").strip()
            if not sku:
                raise PushError(
                    self.env._(
                        "%(product)s has no SKU (Internal Reference): the platform cannot tell which line shipped. "
                        "Set the product's SKU as on the channel, then retry.",
                        product=move.product_id.display_name,
                    )
                )
            quantity = move.product_uom._compute_quantity(move.quantity, move.product_id.uom_id)
            quantities[sku] = quantities.get(sku, 0) + quantity
        return {sku: round(qty) for sku, qty in quantities.items() if round(qty) > 0}

    def _oms_tracking_info(self):
        """{company, numbers, urls}: the carrier and every parcel's tracking number and link."""
        self.ensure_one()
        if not self.carrier_id:
            raise PushError(
                self.env._(
                    "%(picking)s has no carrier: the platform needs the carrier's name with the tracking. Set the "
                    "delivery's carrier, then retry.",
                    picking=self.name,
                )
            )
        rows = [row for row in self._oms_parcel_rows() if row["tracking"]]
        return {
            "company": self.carrier_id.name,
            "numbers": [row["tracking"] for row in rows],
            "urls": [row["tracking_url"] for row in rows if row["tracking_url"]],
        }

    def _oms_push_shipment(self, channel):
        self.ensure_one()
        order = self.sale_id
        quantities = self._oms_shipped_quantities()
        tracking = self._oms_tracking_info()
        client = channel._oms_platform_client()
        if channel.platform == "shopify":
            return platform_push.shopify_fulfill(
                client, order.oms_external_id, quantities, tracking, channel.sync_notify_customer
            )
        marker = self.env._("Shipment %(picking)s", picking=self.name)
        links = [
            f"{number} {url}".strip()
            for number, url in zip(
                tracking["numbers"],
                [row["tracking_url"] for row in self._oms_parcel_rows() if row["tracking"]],
                strict=True,
            )
        ]
        note = self.env._(
            "%(marker)s shipped with %(carrier)s: %(links)s",
            marker=marker,
            carrier=tracking["company"],
            links=", ".join(links) or self.env._("no tracking number"),
        )
        state, note_id = platform_push.woo_note(
            client, order.oms_external_id, note, channel.sync_notify_customer, marker
        )
        outgoing = order.picking_ids.filtered(lambda p: p.picking_type_code == "outgoing" and p.state != "cancel")
        if all(p.state == "done" for p in outgoing):
            platform_push.woo_set_status(client, order.oms_external_id, "completed")
        return state, f"note-{note_id}"
