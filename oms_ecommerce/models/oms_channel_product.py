from odoo import api, fields, models


class OmsChannelProduct(models.Model):
    """A product sold on a channel: the SKU whose stock level Odoo pushes, and the platform's id for it
    (Shopify inventory item, WooCommerce product or variation), looked up by SKU once and kept."""

    _name = "oms.channel.product"
    _description = "Channel Product"
    _order = "channel_id, sku, id"
    _check_company_auto = True

    channel_id = fields.Many2one("oms.channel", required=True, ondelete="cascade", index=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True)
    product_id = fields.Many2one(
        "product.product",
        required=True,
        ondelete="cascade",
        check_company=True,
        domain=[("is_storable", "=", True)],
    )
    sku = fields.Char(related="product_id.default_code", string="SKU", store=True)
    state = fields.Selection(
        [("new", "To look up"), ("found", "Found"), ("unknown", "Unknown on the platform")],
        default="new",
        required=True,
        readonly=True,
    )
    problem = fields.Char(readonly=True)
    platform_ref = fields.Char(
        string="Platform ID", readonly=True, help="Shopify inventory item, or WooCommerce product or variation id."
    )
    platform_parent_ref = fields.Char(string="WooCommerce Parent", readonly=True)
    last_quantity = fields.Integer(string="Last Pushed Quantity", readonly=True)
    last_pushed_at = fields.Datetime(string="Last Pushed", readonly=True)

    _channel_product_uniq = models.Constraint(
        "UNIQUE (channel_id, product_id)", "This product is already mapped on this channel."
    )

    @api.model_create_multi
    def create(self, vals_list):
        mappings = super().create(vals_list)
        for channel, records in mappings.grouped("channel_id").items():
            if channel._oms_pushes("stock"):
                self.env["oms.channel"]._oms_stock_changed(records.product_id, channel.warehouse_id)
        return mappings

    def write(self, vals):
        if "product_id" in vals:
            vals.update({"state": "new", "platform_ref": False, "platform_parent_ref": False, "problem": False})
        return super().write(vals)

    def _oms_mark_unknown(self, problem):
        """A SKU the platform does not know: listed for the desk, not pushed again until looked up again."""
        if self:
            self.write({"state": "unknown", "problem": problem, "platform_ref": False})

    def action_look_up_again(self):
        """After fixing the SKU here or on the platform: look it up and push its stock again."""
        self.check_access("write")
        self.write({"state": "new", "platform_ref": False, "platform_parent_ref": False, "problem": False})
        for channel, records in self.grouped("channel_id").items():
            self.env["oms.channel"]._oms_stock_changed(records.product_id, channel.warehouse_id)
        return True

    @api.model
    def _oms_map_products(self, channel, products):
        """Map the storable products of a channel order that are not mapped yet."""
        if not channel._oms_pushes("stock"):
            return self
        products = products.filtered(lambda p: p.is_storable)
        if not products:
            return self
        mapped = self.sudo().search([("channel_id", "=", channel.id), ("product_id", "in", products.ids)]).product_id
        return self.sudo().create([{"channel_id": channel.id, "product_id": p.id} for p in products - mapped])
