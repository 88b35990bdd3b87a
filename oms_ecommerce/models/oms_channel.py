# Longer than ~400 lines on purpose: the sales channel's own fields (its settings for every domain) are declared
# here; each domain's behaviour is in its own oms_channel_*.py file.
import re
import secrets
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from ..tools import signing, webhooks
from ..tools.actions import window_action

CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")


def _new_secret():
    return secrets.token_urlsafe(32)


class OmsChannel(models.Model):
    _name = "oms.channel"
    _check_company_auto = True
    _description = "Sales Channel"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, tracking=True, translate=False)
    code = fields.Char(
        required=True,
        tracking=True,
        help="URL-safe identifier used by the channel API: /oms/v1/<code>/orders.",
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    channel_type = fields.Selection(
        [("webshop", "Web shop"), ("marketplace", "Marketplace"), ("other", "Other")],
        string="Type",
        default="webshop",
        required=True,
    )
    color = fields.Integer()
    secret = fields.Char(
        copy=False,
        default=lambda self: _new_secret(),
        groups="oms_ecommerce.group_oms_manager",
        help="Key of the HMAC-SHA256 signature every API request carries.",
    )
    secret_previous = fields.Char(
        copy=False,
        groups="oms_ecommerce.group_oms_manager",
        help="The secret before the last change: Shopify keeps signing with it for up to an hour after a rotation.",
    )
    secret_replaced_at = fields.Datetime(
        copy=False, readonly=True, help="When the previous secret was replaced (accepted one hour more)."
    )
    platform = fields.Selection(
        [("api", "OMS API"), ("shopify", "Shopify"), ("woocommerce", "WooCommerce")],
        default="api",
        required=True,
        tracking=True,
        help="How the channel sends its orders: the OMS API's own JSON, or a platform's native webhooks "
        "(its own order format, signatures and retries).",
    )
    webhook_url = fields.Char(compute="_compute_webhook_url", string="Webhook URL")
    webhook_topics = fields.Text(compute="_compute_webhook_url", string="Webhook Topics")
    secret_shown = fields.Boolean(
        copy=False,
        readonly=True,
        help="The current secret was shown once in the back office; it is not shown again.",
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company, tracking=True)
    warehouse_id = fields.Many2one(
        "stock.warehouse",
        check_company=True,
        tracking=True,
        default=lambda self: self.env["stock.warehouse"].search([("company_id", "=", self.env.company.id)], limit=1),
    )
    pricelist_id = fields.Many2one(
        "product.pricelist",
        check_company=True,
        help="Pricelist of the orders of this channel; its currency is the channel's currency.",
    )
    currency_id = fields.Many2one(
        "res.currency",
        compute="_compute_currency_id",
        store=True,
        readonly=False,
        required=True,
        precompute=True,
    )
    fiscal_position_id = fields.Many2one(
        "account.fiscal.position",
        string="Fiscal Position",
        check_company=True,
        help="Fiscal position of this channel's orders, instead of the one Odoo finds for the customer. For a "
        "channel that sends prices with tax included, map the products' taxes to their price-included versions "
        "here: Odoo then takes the tax out of the channel's prices and the totals agree to the cent.",
    )
    team_id = fields.Many2one("crm.team", string="Sales Team", check_company=True)
    user_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        tracking=True,
        check_company=True,
    )
    lang = fields.Selection(
        selection="_get_lang_selection",
        string="Customer Language",
        help="Language given to the customers this channel creates.",
    )
    carrier_map_ids = fields.One2many("oms.channel.carrier", "channel_id", string="Shipping Methods", copy=True)
    default_carrier_id = fields.Many2one(
        "delivery.carrier",
        string="Default Carrier",
        check_company=True,
        help="Carrier of orders whose shipping method has no mapping. Leave empty to put "
        "such orders in error until the method is mapped.",
    )
    confirm_policy = fields.Selection(
        [
            ("manual", "By hand"),
            ("all", "Automatically: all orders"),
            ("paid", "Automatically: paid orders"),
            ("paid_under", "Automatically: paid orders under an amount"),
        ],
        string="Confirmation",
        default="manual",
        required=True,
        tracking=True,
        help="How the merchant confirms this channel's orders. Orders not confirmed automatically get an "
        "activity for the channel's responsible, due by the confirm-by deadline.",
    )
    confirm_max_amount = fields.Monetary(
        string="Up to Amount", currency_field="currency_id", help="Paid orders above this total wait for a person."
    )
    confirm_within_hours = fields.Float(
        string="Confirm Within (working hours)",
        default=8.0,
        help="Deadline to confirm an order, in working hours of the company's calendar from the time it was placed.",
    )
    handling_hours = fields.Float(
        string="Ships Within (working hours)",
        default=8.0,
        help="The promise to the customer: an order ships within these working hours of the company's calendar "
        "after it was placed (or after the next working day starts, for orders placed after the cutoff).",
    )
    cutoff_hour = fields.Float(
        string="Same-day Cutoff",
        default=14.0,
        help="Orders placed after this hour (company calendar's time zone) count from the next working day.",
    )
    package_type_id = fields.Many2one(
        "stock.package.type",
        string="Default Box",
        check_company=True,
        help="The package type the packing screen starts with for this channel's deliveries.",
    )
    weight_tolerance_percent = fields.Float(
        string="Weight Tolerance (%)",
        compute="_compute_packing_settings",
        store=True,
        readonly=False,
        help="A package may weigh this much more or less than its products and box, in percent of the expected "
        "weight. The larger of the percent and the absolute tolerance applies.",
    )
    weight_tolerance_abs = fields.Float(
        string="Weight Tolerance (absolute)",
        digits="Stock Weight",
        compute="_compute_packing_settings",
        store=True,
        readonly=False,
        help="A package may weigh this much more or less than expected, in the database's weight unit.",
    )
    return_instructions = fields.Text(
        compute="_compute_packing_settings",
        store=True,
        readonly=False,
        help="Printed on the packing slip of this channel's orders.",
    )
    notify_received = fields.Boolean(string="Order received", default=True)
    notify_confirmed = fields.Boolean(string="Order confirmed", default=True)
    notify_packed = fields.Boolean(string="Order packed", default=False)
    notify_shipped = fields.Boolean(string="Order shipped", default=True)
    notify_delivered = fields.Boolean(string="Order delivered", default=True)
    notify_delayed = fields.Boolean(string="Order delayed", default=True)
    notify_cancelled = fields.Boolean(string="Order cancelled", default=True)
    order_ids = fields.One2many("sale.order", "oms_channel_id", string="Orders")
    intake_ids = fields.One2many("oms.intake", "channel_id", string="Intake")
    order_count = fields.Integer(compute="_compute_counts")
    intake_error_count = fields.Integer(compute="_compute_counts")
    api_url = fields.Char(compute="_compute_api_url", string="API URL")

    _code_uniq = models.Constraint("UNIQUE (code)", "A channel with this code already exists.")

    @api.model
    def _get_lang_selection(self):
        return self.env["res.lang"].get_installed()

    @api.depends("pricelist_id", "company_id")
    def _compute_currency_id(self):
        for channel in self:
            channel.currency_id = (
                channel.pricelist_id.currency_id
                or channel.currency_id
                or channel.company_id.currency_id
                or self.env.company.currency_id
            )

    @api.depends("company_id")
    def _compute_packing_settings(self):
        for channel in self:
            company = channel.company_id or self.env.company
            channel.weight_tolerance_percent = company.oms_weight_tolerance_percent
            channel.weight_tolerance_abs = company.oms_weight_tolerance_abs
            channel.return_instructions = company.oms_return_instructions

    def _compute_counts(self):
        orders = dict(
            self.env["sale.order"]._read_group([("oms_channel_id", "in", self.ids)], ["oms_channel_id"], ["__count"])
        )
        errors = dict(
            self.env["oms.intake"]._read_group(
                [("channel_id", "in", self.ids), ("state", "=", "error")],
                ["channel_id"],
                ["__count"],
            )
        )
        for channel in self:
            channel.order_count = orders.get(channel, 0)
            channel.intake_error_count = errors.get(channel, 0)

    @api.depends("code")
    def _compute_api_url(self):
        base = self.get_base_url() if self else ""
        for channel in self:
            channel.api_url = f"{base}/oms/v1/{channel.code}/orders" if channel.code else False

    @api.depends("code", "platform")
    def _compute_webhook_url(self):
        base = self.get_base_url() if self else ""
        for channel in self:
            topics = webhooks.TOPICS.get(channel.platform)
            channel.webhook_url = f"{base}/oms/v1/{channel.code}/webhooks" if channel.code and topics else False
            channel.webhook_topics = "\n".join(topics) if topics else False

    @api.constrains("code")
    def _check_code(self):
        for channel in self:
            if not CODE_RE.match(channel.code or ""):
                raise ValidationError(
                    self.env._(
                        "The code “%(code)s” is not URL-safe: use letters, digits, '-' and '_' "
                        "only (at most 64 characters).",
                        code=channel.code,
                    )
                )

    @api.constrains("pricelist_id", "currency_id")
    def _check_pricelist_currency(self):
        for channel in self:
            if channel.pricelist_id and channel.pricelist_id.currency_id != channel.currency_id:
                raise ValidationError(
                    self.env._(
                        "The currency of channel %(channel)s must be its pricelist's currency.", channel=channel.name
                    )
                )

    def _has_field_access(self, field, operation):
        """The secret is write-only: a manager sets or regenerates it, nobody reads it back (not through
        the UI, not through RPC, not an administrator); the signature check reads it as the system, and
        the secret wizard shows a new one once."""
        if field.name == "secret" and not self.env.su:
            return operation != "read" and super()._has_field_access(field, operation)
        if field.name == "secret_previous" and not self.env.su:
            return False  # kept by the system for the hour after a rotation, never read or written by a user
        return super()._has_field_access(field, operation)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("company_id") and "warehouse_id" not in vals:
                # The default warehouse is the current company's: take the channel's company's instead.
                vals["warehouse_id"] = (
                    self.env["stock.warehouse"].search([("company_id", "=", vals["company_id"])], limit=1).id
                )
        channels = super().create(vals_list)
        channels._grant_api_user()
        return channels

    def write(self, vals):
        replaced = {}
        if "secret" in vals:
            replaced = {
                channel.id: channel.sudo().secret for channel in self if channel.sudo().secret != vals["secret"]
            }
        res = super().write(vals)
        now = fields.Datetime.now()
        for channel in self.filtered(lambda c: c.id in replaced and replaced[c.id]):
            channel.sudo().write({"secret_previous": replaced[channel.id], "secret_replaced_at": now})
        if "company_id" in vals:
            self._grant_api_user()
        return res

    def _grant_api_user(self):
        """The integration user that processes API orders must be allowed in the channel's company."""
        api_user = self.env.ref("oms_ecommerce.user_oms_api", raise_if_not_found=False)
        if api_user:
            missing = self.company_id - api_user.sudo().company_ids
            if missing:
                api_user.sudo().company_ids = [fields.Command.link(c.id) for c in missing]

    # ------------------------------------------------------------------
    # Signatures
    # ------------------------------------------------------------------
    def _check_request_signature(self, timestamp, signature, method, path, body):
        """Check a channel API request's v2 signature (see tools/signing.py).

        :return: None when authentic and fresh, else "bad_signature" or "stale_request"
        """
        self.ensure_one()
        return signing.check([self.sudo().secret], timestamp, signature, method, path, body)

    def _webhook_secrets(self):
        """The keys a platform's webhook may be signed with: the secret, and for one hour after a rotation
        the previous one (Shopify signs with the old key for up to an hour). Server side only."""
        self.ensure_one()
        channel = self.sudo()
        keys = [channel.secret]
        if (
            channel.secret_previous
            and channel.secret_replaced_at
            and fields.Datetime.now() - channel.secret_replaced_at <= timedelta(seconds=webhooks.PREVIOUS_SECRET_GRACE)
        ):
            keys.append(channel.secret_previous)
        return [key for key in keys if key]

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_show_secret(self):
        """Show the channel's current secret, once: afterwards it can only be regenerated."""
        self.ensure_one()
        self._check_secret_manager()
        if self.secret_shown:
            raise UserError(
                self.env._("The secret of %(channel)s was already shown: regenerate it.", channel=self.name)
            )
        return self._secret_wizard(self.sudo().secret)

    def action_regenerate_secret(self):
        """Give the channel a new secret and show it once."""
        self.ensure_one()
        self._check_secret_manager()
        secret = _new_secret()
        self.sudo().secret = secret
        self.message_post(body=self.env._("The API secret was regenerated; the previous one no longer works."))
        return self._secret_wizard(secret)

    def action_set_secret(self):
        """Type in the secret a platform gives (Shopify's webhook signing key)."""
        self.ensure_one()
        self._check_secret_manager()
        return window_action(
            self.env["oms.channel.secret.set"],
            self.env._("Secret of %(channel)s", channel=self.name),
            target="new",
            context={"default_channel_id": self.id},
        )

    def _check_secret_manager(self):
        self.check_access("write")
        if not self.env.user.has_group("oms_ecommerce.group_oms_manager"):
            raise AccessError(self.env._("Only an OMS manager can see or regenerate a channel secret."))

    def _secret_wizard(self, secret):
        self.sudo().secret_shown = True
        wizard = self.env["oms.channel.secret"].create({"channel_id": self.id, "secret": secret})
        return window_action(wizard, self.env._("API secret of %(channel)s", channel=self.name), target="new")

    def action_view_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.sale_order_action_oms")
        action["domain"] = [("oms_channel_id", "=", self.id)]
        action["context"] = {"default_oms_channel_id": self.id}
        return action

    def action_view_intake_errors(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("oms_ecommerce.oms_intake_action")
        action["domain"] = [("channel_id", "=", self.id)]
        action["context"] = {"search_default_filter_error": 1}
        return action

    def _find_carrier(self, method):
        """The ``delivery.carrier`` for a payload's shipping method, or an empty recordset."""
        self.ensure_one()
        method = (method or "").strip().lower()
        for mapping in self.carrier_map_ids:
            if mapping.method.strip().lower() == method:
                return mapping.carrier_id
        return self.default_carrier_id

    def _oms_order_defaults(self):
        """What this channel sets on each of its new orders (fiscal position, warehouse, sales team, salesperson)."""
        self.ensure_one()
        vals = {}
        for field in ("fiscal_position_id", "warehouse_id", "team_id", "user_id"):
            if self[field]:
                vals[field] = self[field].id
        return vals

    @api.model
    def _oms_demo_generate(self, part):
        """Build one part of the demo data (called by the demo XML files only). The generators are plain Python
        in ``demo/generators``, imported here so that a database without demo data never loads them."""
        from ..demo.generators import DemoGenerator

        DemoGenerator(self.env).generate(part)
