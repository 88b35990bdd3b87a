import math

from odoo import api, fields, models
from odoo.addons.queue_job.delay import chain
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..tools import platform_push
from ..tools.platform_push import PushError

MANAGER = "oms_ecommerce.group_oms_manager"
PUSH_PLATFORMS = ("shopify", "woocommerce")
STOCK_PUSH_CHUNK = 250  # SKUs per job of the Push Stock Levels button (Shopify's batch of quantities)


class OmsChannel(models.Model):
    """What Odoo pushes back to the channel's platform (shipments with tracking, cancellations made here,
    refunds of returns, stock levels) and how: one queue_job channel per sales channel, so that a slow or rate-limited shop
    never holds the others back."""

    _name = "oms.channel"
    _inherit = ["oms.channel", "oms.sync.mixin"]

    job_channel_id = fields.Many2one(
        "queue.job.channel",
        string="Job Channel",
        readonly=True,
        copy=False,
        help="The job queue channel of this sales channel's pushes (root.oms.<code>): its capacity is set in the "
        "job runner's configuration.",
    )
    sync_shipments = fields.Boolean(
        string="Push Shipments", default=True, help="Send each shipped delivery with its tracking to the platform."
    )
    sync_notify_customer = fields.Boolean(
        string="Platform Notifies the Customer",
        compute="_compute_sync_notify_customer",
        store=True,
        readonly=False,
        help="Shopify emails the customer about the fulfillment; WooCommerce shows the tracking note to the "
        "customer. Off by default while Odoo's own 'Order shipped' email is on, so the customer is not told twice.",
    )
    sync_cancellations = fields.Boolean(
        string="Push Cancellations",
        default=True,
        help="An order cancelled here by the desk is cancelled on the platform (never one the channel cancelled).",
    )
    sync_restock = fields.Boolean(
        string="Restock on Cancel", default=True, help="Shopify puts the items of a cancelled order back in stock."
    )
    sync_refund = fields.Boolean(
        string="Refund on Cancel",
        default=False,
        help="Shopify refunds the customer to the original payment method when the order is cancelled.",
    )
    sync_refunds = fields.Boolean(
        string="Push Refunds",
        default=True,
        help="The credit note of a return received here is pushed as a refund of the credited items: Shopify "
        "refunds the amount on the order's payment; WooCommerce records the refund (see below). A refund made on "
        "the platform is never pushed back.",
    )
    woo_api_refund = fields.Boolean(
        string="WooCommerce Refunds the Payment",
        default=False,
        help="On: WooCommerce refunds the money through its payment gateway (api_refund). Off: WooCommerce only "
        "records the refund, and the merchant refunds the money on the payment gateway.",
    )
    sync_stock = fields.Boolean(
        string="Push Stock Levels",
        default=True,
        help="Push the quantity available to sell of every mapped SKU when it changes, and all of them once a day.",
    )
    stock_buffer = fields.Float(
        string="Safety Buffer",
        digits="Product Unit",
        help="Held back from the quantity available to sell on this channel (never below 0).",
    )
    shopify_location_id = fields.Char(
        string="Shopify Location ID",
        groups=MANAGER,
        help="The Shopify location whose 'available' quantities Odoo sets (Settings > Locations: the number at "
        "the end of the location's address, or its gid://shopify/Location/… id).",
    )
    product_map_ids = fields.One2many("oms.channel.product", "channel_id", string="Products")
    sync_unknown_count = fields.Integer(string="Unknown SKUs", compute="_compute_sync_unknown_count")

    @api.depends("notify_shipped")
    def _compute_sync_notify_customer(self):
        for channel in self:
            channel.sync_notify_customer = not channel.notify_shipped

    def _compute_sync_unknown_count(self):
        counts = dict(
            self.env["oms.channel.product"]._read_group(
                [("channel_id", "in", self.ids), ("state", "=", "unknown")], ["channel_id"], ["__count"]
            )
        )
        for channel in self:
            channel.sync_unknown_count = counts.get(channel, 0)

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels._oms_ensure_job_channel()
        return channels

    def write(self, vals):
        res = super().write(vals)
        if "code" in vals or "platform" in vals:
            self._oms_ensure_job_channel()
        return res

    def _oms_ensure_job_channel(self):
        """Each sales channel with a platform to push to gets its queue_job channel ``root.oms.<code>``."""
        parent = self.env.ref("oms_ecommerce.queue_job_channel_oms", raise_if_not_found=False)
        if not parent:
            return
        JobChannel = self.env["queue.job.channel"].sudo()
        for channel in self.sudo().filtered(lambda c: c.platform in PUSH_PLATFORMS or c.job_channel_id):
            if channel.job_channel_id:
                if channel.job_channel_id.name != channel.code:
                    channel.job_channel_id.name = channel.code
                continue
            existing = JobChannel.search([("parent_id", "=", parent.id), ("name", "=", channel.code)], limit=1)
            channel.job_channel_id = existing or JobChannel.create({"name": channel.code, "parent_id": parent.id})

    def _oms_job_channel(self):
        self.ensure_one()
        return self.sudo().job_channel_id.complete_name or "root.oms"

    def _oms_pushes(self, what):
        """Whether this channel pushes ``what`` (shipments, cancellations, refunds, stock) to its platform."""
        self.ensure_one()
        return self.active and self.platform in PUSH_PLATFORMS and self[f"sync_{what}"]

    # ------------------------------------------------------------- sync mixin

    def _oms_sync_channel(self):
        return self

    def _oms_sync_identity_keys(self):
        return [f"oms-stock-all:{channel.id}" for channel in self]

    def _oms_sync_failed_jobs_domain(self):
        # the daily reconciliation's job, and the chunks of the button's (oms-stock-all:<channel>:<action>:<step>)
        chunks = Domain.OR(Domain("identity_key", "=like", f"oms-stock-all:{channel.id}:%") for channel in self)
        return super()._oms_sync_failed_jobs_domain() | (Domain("state", "=", "failed") & chunks)

    def _oms_sync_enqueue(self):
        self.action_oms_push_stock()

    # ------------------------------------------------------------- stock levels

    def _oms_available_to_sell(self, products):
        """{product: quantity available to sell on this channel}: on hand in the channel's warehouse minus
        what is reserved, minus the channel's safety buffer, never below 0 (whole units)."""
        self.ensure_one()
        if not self.warehouse_id:
            raise PushError(
                self.env._("Channel %(channel)s has no warehouse: set one to push stock levels.", channel=self.name)
            )
        stock = products.with_context(warehouse_id=self.warehouse_id.id)
        return {product: max(0, math.floor(product.free_qty - (self.stock_buffer or 0.0))) for product in stock}

    @api.model
    def _oms_stock_changed(self, products, warehouses=None):
        """Stock of ``products`` moved or was reserved in ``warehouses`` (None: any): enqueue one push per
        channel and SKU. The identity key merges the pushes asked while one waits: the job computes the
        latest figure when it runs."""
        products = products.filtered("is_storable")
        if not products:
            return
        domain = [
            ("product_id", "in", products.ids),
            ("channel_id.sync_stock", "=", True),
            ("channel_id.active", "=", True),
            ("channel_id.platform", "in", PUSH_PLATFORMS),
            ("state", "!=", "unknown"),
        ]
        if warehouses is not None:
            domain.append(("channel_id.warehouse_id", "in", warehouses.ids))
        for mapping in self.env["oms.channel.product"].sudo().search(domain):
            channel = mapping.channel_id
            channel._oms_sync_delay(
                channel,
                f"oms-stock:{channel.id}:{mapping.product_id.id}",
                self.env._("Stock of %(sku)s to %(channel)s", sku=mapping.sku or "?", channel=channel.name),
            )._oms_job_push_stock(mapping.product_id.ids)

    def _oms_check_pushes_stock(self):
        for channel in self.sudo():
            if not channel._oms_pushes("stock"):
                raise UserError(
                    self.env._(
                        "Channel %(channel)s does not push stock levels: it needs a Shopify or WooCommerce platform "
                        "and 'Push Stock Levels' on.",
                        channel=channel.name,
                    )
                )

    def action_oms_push_stock(self):
        """Button (and Retry): push the stock level of every mapped SKU, as queue_job jobs of 250 SKUs on the
        channel's job channel, one after the other; the progress is on an ``oms.job.progress`` record and the
        user who pressed it is told when it is done."""
        self._oms_check_pushes_stock()
        Progress = self.env["oms.job.progress"]
        notification = True
        for channel in self.sudo():
            products = channel.product_map_ids.product_id
            if not products:
                continue
            progress, created = Progress._oms_start(
                "stock_push",
                self.env._("Push stock levels: %(channel)s", channel=channel.name),
                f"stock:{channel.id}",
                len(products),
                channel_id=channel.id,
            )
            notification = progress._oms_started_notification(
                self.env._(
                    "The stock levels of %(count)s SKUs are pushed to %(channel)s in the background; you will be "
                    "told when it is done.",
                    count=len(products),
                    channel=channel.name,
                )
            )
            if not created:
                continue
            channel.oms_sync_state = "pending"
            ids = products.ids
            chunks = [ids[start : start + STOCK_PUSH_CHUNK] for start in range(0, len(ids), STOCK_PUSH_CHUNK)]
            chain(
                *[
                    progress._oms_delayable(
                        f"stock-{number}",
                        self.env._(
                            "Stock of all SKUs to %(channel)s (part %(number)s of %(count)s)",
                            channel=channel.name,
                            number=number,
                            count=len(chunks),
                        ),
                        channel=channel._oms_job_channel(),
                    )._oms_job_push_stock(chunk)
                    for number, chunk in enumerate(chunks, start=1)
                ]
            ).delay()
        return notification if len(self) == 1 else True

    def _oms_push_stock_all(self):
        """The daily reconciliation: one job per channel pushes every mapped SKU, even unchanged ones."""
        self._oms_check_pushes_stock()
        for channel in self.sudo():
            products = channel.product_map_ids.product_id
            if not products:
                continue
            channel.oms_sync_state = "pending"
            channel._oms_sync_delay(
                channel,
                f"oms-stock-all:{channel.id}",
                self.env._("Stock of all SKUs to %(channel)s", channel=channel.name),
            )._oms_job_push_stock(products.ids, force=True)

    @api.model
    def _cron_oms_reconcile_stock(self):
        channels = self.search([("sync_stock", "=", True), ("platform", "in", PUSH_PLATFORMS)])
        channels.filtered("product_map_ids")._oms_push_stock_all()

    def _oms_job_push_stock(self, product_ids, force=False):
        """Job: push the available-to-sell quantity of these products (computed now: the latest figure).

        :param force: push even a figure the platform already has (the reconciliation)
        :return: a summary kept on the job
        """
        counts = self._oms_push_stock_now(product_ids, force=force)
        return counts.get("note") or f"{counts['pushed']} pushed, {counts['unknown']} unknown"

    def _oms_push_stock_now(self, product_ids, force=False):
        """Push the available-to-sell quantity of these products now (see ``_oms_job_push_stock``).

        :return: {"pushed": n, "unknown": n, "note": why nothing was pushed, or False}
        """
        self.ensure_one()
        channel = self.sudo()
        nothing = {"pushed": 0, "unknown": 0}
        if not channel._oms_pushes("stock"):
            return dict(nothing, note="stock push is off for this channel")
        mappings = channel.product_map_ids.filtered(lambda m: m.product_id.id in product_ids)
        if not force:
            mappings = mappings.filtered(lambda m: m.state != "unknown")
        if not mappings:
            return dict(nothing, note="no mapped SKU")
        quantities = channel._oms_available_to_sell(mappings.product_id)
        if not force:
            mappings = mappings.filtered(lambda m: not m.last_pushed_at or m.last_quantity != quantities[m.product_id])
            if not mappings:
                return dict(nothing, note="unchanged")
        pushed, unknown = self._oms_sync_call(channel._oms_push_stock_levels, mappings, quantities)
        if force or channel.oms_sync_state == "error":
            channel._oms_sync_done()
        return {"pushed": pushed, "unknown": unknown, "note": False}

    def _oms_push_stock_levels(self, mappings, quantities):
        self.ensure_one()
        client = self._oms_platform_client()
        no_sku = mappings.filtered(lambda m: not m.sku)
        no_sku._oms_mark_unknown(self.env._("The product has no SKU (Internal Reference): set one."))
        mappings -= no_sku
        to_find = mappings.filtered(lambda m: not m.platform_ref)
        if self.platform == "shopify":
            if not self.shopify_location_id:
                raise PushError(
                    self.env._(
                        "Set the Shopify Location ID on channel %(channel)s (Platform Connection tab) to push "
                        "stock levels.",
                        channel=self.name,
                    )
                )
            if to_find:
                found = platform_push.shopify_inventory_items(client, to_find.mapped("sku"))
                for mapping in to_find:
                    if mapping.sku in found:
                        mapping.write({"platform_ref": found[mapping.sku], "state": "found", "problem": False})
            known = mappings.filtered("platform_ref")
            (mappings - known)._oms_mark_unknown(self.env._("Shopify has no product variant with this SKU."))
            platform_push.shopify_set_stock(
                client, self.shopify_location_id, {m.platform_ref: quantities[m.product_id] for m in known}
            )
            refused = {}
        else:
            for mapping in to_find:
                found = platform_push.woo_products(client, mapping.sku)
                if found:
                    mapping.write(
                        {"platform_ref": str(found[0]), "platform_parent_ref": str(found[1] or ""), "state": "found"}
                    )
            known = mappings.filtered("platform_ref")
            (mappings - known)._oms_mark_unknown(self.env._("WooCommerce has no product or variation with this SKU."))
            refused = platform_push.woo_set_stock(
                client,
                [(int(m.platform_ref), int(m.platform_parent_ref or 0), quantities[m.product_id]) for m in known],
            )
        now = fields.Datetime.now()
        pushed = known.filtered(lambda m: not refused or int(m.platform_ref) not in refused)
        for mapping in pushed:
            mapping.write(
                {
                    "last_quantity": quantities[mapping.product_id],
                    "last_pushed_at": now,
                    "state": "found",
                    "problem": False,
                }
            )
        failed = known - pushed
        for mapping in failed:
            mapping.write({"state": "unknown", "problem": refused[int(mapping.platform_ref)], "platform_ref": False})
        return len(pushed), len(mappings) - len(known) + len(failed)
