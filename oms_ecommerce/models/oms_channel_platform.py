from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..tools import platform_client

MANAGER = "oms_ecommerce.group_oms_manager"


class OmsChannel(models.Model):
    """The credentials of the platform's admin API, used to pull missed orders and push shipments and
    stock levels. Readable by OMS managers only."""

    _inherit = "oms.channel"

    shopify_shop = fields.Char(
        string="Shopify Shop Domain",
        groups=MANAGER,
        help="The shop's myshopify.com domain, e.g. my-store.myshopify.com.",
    )
    shopify_access_token = fields.Char(
        string="Admin API Access Token",
        copy=False,
        groups=MANAGER,
        help="Token of the shop's custom app (Settings > Apps and sales channels > Develop apps), with the "
        "scopes read_orders, write_orders, write_fulfillments, write_merchant_managed_fulfillment_orders and "
        "write_inventory.",
    )
    shopify_api_version = fields.Char(
        string="Admin API Version",
        default=platform_client.SHOPIFY_API_VERSION,
        groups=MANAGER,
        help="The dated Admin API version the calls use (Shopify supports each for a year).",
    )
    woo_url = fields.Char(
        string="WooCommerce Site URL", groups=MANAGER, help="The shop's address, e.g. https://shop.example.com."
    )
    woo_consumer_key = fields.Char(
        string="REST Consumer Key",
        copy=False,
        groups=MANAGER,
        help="WooCommerce > Settings > Advanced > REST API: a key with Read/Write permission.",
    )
    woo_consumer_secret = fields.Char(string="REST Consumer Secret", copy=False, groups=MANAGER)
    platform_timeout = fields.Integer(
        string="API Timeout (s)",
        default=platform_client.DEFAULT_TIMEOUT,
        groups=MANAGER,
        help="Seconds every call to the platform may take before it counts as failed (and is retried).",
    )

    @api.constrains("platform_timeout")
    def _check_platform_timeout(self):
        for channel in self.sudo():
            if not 1 <= channel.platform_timeout <= 300:
                raise ValidationError(
                    self.env._(
                        "The API timeout of %(channel)s must be between 1 and 300 seconds.", channel=channel.name
                    )
                )

    def _oms_platform_client(self):
        """The admin API client of this channel's platform (raises ``PlatformError`` when it is not set up)."""
        self.ensure_one()
        channel = self.sudo()
        if channel.platform == "shopify":
            return platform_client.ShopifyClient(
                channel.shopify_shop,
                channel.shopify_access_token,
                channel.shopify_api_version,
                timeout=channel.platform_timeout or platform_client.DEFAULT_TIMEOUT,
            )
        if channel.platform == "woocommerce":
            return platform_client.WooCommerceClient(
                channel.woo_url,
                channel.woo_consumer_key,
                channel.woo_consumer_secret,
                timeout=channel.platform_timeout or platform_client.DEFAULT_TIMEOUT,
            )
        raise platform_client.PlatformError(
            self.env._(
                "The channel %(channel)s sends orders through the OMS API: it has no platform API to call.",
                channel=channel.name,
            )
        )
