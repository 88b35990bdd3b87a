import base64
import json
import logging
import math
import re
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from hashlib import sha256

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain
from odoo.tools import email_normalize, float_compare, float_is_zero, float_round

from ..tools import shopify, webhooks, woocommerce

_logger = logging.getLogger(__name__)

ERROR_CODES = [
    ("invalid_payload", "Invalid payload"),
    ("unknown_sku", "Unknown SKU"),
    ("unknown_country", "Unknown country"),
    ("unknown_currency", "Unknown currency"),
    ("inactive_product", "Inactive product"),
    ("mapping_error", "Mapping error"),
]
PAYMENT_STATUSES = ("paid", "pending", "cod")
# The mapper of each platform's native order format (see tools/shopify.py, tools/woocommerce.py).
PLATFORM_MAPPERS = {"shopify": shopify, "woocommerce": woocommerce}
MAX_BATCH = 500
# Errors PostgreSQL raises when two transactions collide: Odoo retries the whole request on them,
# so they must never be turned into an intake error.
CONCURRENCY_ERRORS = (
    psycopg2.errors.SerializationFailure,
    psycopg2.errors.DeadlockDetected,
    psycopg2.errors.LockNotAvailable,
)


# What the processing of an intake decides: written by it (or its actions), never by a user's write.
PROCESSING_FIELDS = frozenset(
    {
        "channel_id",
        "source",
        "received_at",
        "state",
        "external_id",
        "order_id",
        "order_ref",
        "error_code",
        "error_field",
        "error_message",
        "processed_at",
        "attempt_count",
        "payload_raw",
        "payload_undecodable",
        "webhook_topic",
        "webhook_delivery_id",
        "webhook_event_id",
        "webhook_version",
        "channel_reference",
    }
)


# Set while intakes are processed (by Python code only, out of reach of an RPC's context).
_PROCESSING = ContextVar("oms_intake_processing", default=False)


class IntakeInvalid(Exception):
    """The payload breaks the schema of API.md: ``field`` says where."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = storable(field)
        self.message = storable(message)


def storable(value):
    """``value`` with what PostgreSQL text cannot hold (NUL, lone surrogates) written as escapes."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


class IntakeMappingError(Exception):
    """A valid payload that cannot be mapped yet (unknown SKU, country, ...)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


# Money and quantities beyond these are not an order, they are a mistake (or an attack on float arithmetic).
MAX_AMOUNT = 10**12
MAX_QUANTITY = 10**9
# JSON nested deeper than this is not an order of API.md.
MAX_DEPTH = 32
# Ids travel in API paths (/orders/<external_id>/cancel): no slash, no control character.
EXTERNAL_ID_FORBIDDEN = re.compile(r"[/\\\x00-\x1f\x7f]")


def _is_number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def text_problem(value):
    """Why ``value`` (a str) cannot be stored as text in PostgreSQL, or None."""
    if "\x00" in value:
        return "contains a NUL character (\\u0000)"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "contains a lone UTF-16 surrogate (an invalid \\uD800-\\uDFFF escape)"
    return None


def clean_text(value):
    """``value`` when it is a str PostgreSQL can store, else None."""
    return value if isinstance(value, str) and not text_problem(value) else None


def parse_datetime(value):
    """ISO 8601 (``Z`` or offset allowed) to a naive UTC datetime, as Odoo stores them.

    :raises ValueError: not an ISO 8601 date-time, or one before 1970 or after 9999 once in UTC
    """
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
        if parsed.tzinfo:
            parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise ValueError(f"{value!r} is out of range") from None
    if parsed.year < 1970:
        raise ValueError(f"{value!r} is before 1970")
    return parsed


def _depth(value, limit):
    """Nesting depth of a parsed JSON value, counted up to ``limit`` + 1 (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, depth)
            if deepest > limit:
                return deepest
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _text(data, key, path, required=False, message=None):
    """The string at ``data[key]`` (None when absent or empty), checked to be storable text."""
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise IntakeInvalid(path, message or f"{path} is required.")
        return None
    if not isinstance(value, str):
        raise IntakeInvalid(path, f"{path} must be a string.")
    problem = text_problem(value)
    if problem:
        raise IntakeInvalid(path, f"{path} {problem}.")
    if required and not value.strip():
        raise IntakeInvalid(path, message or f"{path} is required.")
    return value


def _number(data, key, path, minimum=0, maximum=MAX_AMOUNT, positive=False, what="a number"):
    """The number at ``data[key]`` (None when absent), finite and within [minimum, maximum]."""
    value = data.get(key)
    if value is None:
        return None
    if not _is_number(value):
        raise IntakeInvalid(path, f"{path} must be {what}.")
    if isinstance(value, float) and not math.isfinite(value):
        raise IntakeInvalid(path, f"{path} must be a finite number, not NaN or Infinity.")
    if positive and value <= 0:
        raise IntakeInvalid(path, f"{path} must be a number greater than 0.")
    if value < minimum or value > maximum:
        raise IntakeInvalid(path, f"{path} must be {what} from {minimum} to {maximum:,}.")
    return value


def _object(data, key, path, required=False, message=None):
    value = data.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise IntakeInvalid(path, message or f"{path} must be an object.")
    return value


def validate_external_id(value):
    """The external id of a payload, trimmed, or raise IntakeInvalid: ids travel in API paths."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise IntakeInvalid("external_id", "external_id is required (a non-empty string).")
    problem = text_problem(value)
    if problem:
        raise IntakeInvalid("external_id", f"external_id {problem}.")
    value = value.strip()
    if len(value) > 128:
        raise IntakeInvalid("external_id", "external_id is longer than 128 characters.")
    if EXTERNAL_ID_FORBIDDEN.search(value):
        raise IntakeInvalid(
            "external_id",
            "external_id cannot hold a slash, a backslash or a control character: it is part of the API's "
            "paths (/orders/<external_id>/cancel). Send the channel's id without them.",
        )
    return value


def validate_payload(data):
    """Check an order object against the schema of API.md.

    :return: the order's external id (trimmed)
    :raises IntakeInvalid: with the path of the first wrong field
    """
    if not isinstance(data, dict):
        raise IntakeInvalid("", "An order must be a JSON object.")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise IntakeInvalid("", f"The order is nested deeper than {MAX_DEPTH} levels: send an order of API.md.")
    external_id = validate_external_id(data.get("external_id"))
    placed_at = _text(data, "placed_at", "placed_at")
    if placed_at:
        try:
            parse_datetime(placed_at)
        except ValueError:
            raise IntakeInvalid(
                "placed_at", "placed_at must be an ISO 8601 date-time after 1970, e.g. 2026-11-20T10:15:00Z."
            ) from None
    currency = _text(data, "currency", "currency")
    if currency and not (currency.isascii() and currency.isalpha() and len(currency) == 3):
        raise IntakeInvalid("currency", "currency must be a 3-letter ISO 4217 code, e.g. EUR.")
    customer = _object(data, "customer", "customer", True, "customer is required (an object with an email).")
    email = _text(customer, "email", "customer.email", True, "customer.email is required.")
    if not email_normalize(email):
        raise IntakeInvalid("customer.email", "customer.email must be an email address.")
    for key in ("name", "phone"):
        _text(customer, key, f"customer.{key}")
    for key in ("shipping_address", "billing_address"):
        address = _object(
            data,
            key,
            key,
            key == "shipping_address",
            f"{key} is required (an object with name, street, city, country_code).",
        )
        if address is None:
            continue
        for sub in address:
            _text(address, sub, f"{key}.{sub}")
        for sub in ("name", "street", "city", "country_code"):
            _text(address, sub, f"{key}.{sub}", required=True)
    lines = data.get("lines")
    if not isinstance(lines, list) or not lines:
        raise IntakeInvalid("lines", "lines is required: at least one line with sku and quantity.")
    for index, line in enumerate(lines):
        where = f"lines[{index}]"
        if not isinstance(line, dict):
            raise IntakeInvalid(where, f"{where} must be an object.")
        sku = line.get("sku")
        if isinstance(sku, int) and not isinstance(sku, bool):
            sku = str(sku)
        if not isinstance(sku, str):
            raise IntakeInvalid(f"{where}.sku", f"{where}.sku is required (a string).")
        _text({"sku": sku}, "sku", f"{where}.sku", required=True)
        if line.get("quantity") is None:
            raise IntakeInvalid(f"{where}.quantity", f"{where}.quantity must be a number greater than 0.")
        _number(line, "quantity", f"{where}.quantity", maximum=MAX_QUANTITY, positive=True)
        _number(line, "unit_price", f"{where}.unit_price", what="a number, 0 or more,")
        _number(line, "discount", f"{where}.discount", maximum=100, what="a percentage")
        _text(line, "name", f"{where}.name")
    shipping = _object(data, "shipping", "shipping", message="shipping must be an object with method and price.")
    if shipping is not None:
        _text(shipping, "method", "shipping.method")
        _number(shipping, "price", "shipping.price", what="a number, 0 or more,")
    payment = _object(data, "payment", "payment")
    if payment is not None:
        if payment.get("status") not in (None, *PAYMENT_STATUSES):
            raise IntakeInvalid("payment.status", "payment.status must be one of paid, pending, cod.")
        _text(payment, "method", "payment.method")
        _text(payment, "reference", "payment.reference")
        _number(payment, "amount", "payment.amount", what="an amount, 0 or more,")
    if data.get("taxes_included") is not None and not isinstance(data["taxes_included"], bool):
        raise IntakeInvalid("taxes_included", "taxes_included must be true or false.")
    _number(data, "total", "total", what="an amount, 0 or more,")
    for key in ("note", "gift_message"):
        _text(data, key, key)
    return external_id


class OmsIntake(models.Model):
    _name = "oms.intake"
    _description = "Order Intake"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "display_name"

    channel_id = fields.Many2one("oms.channel", required=True, index=True, ondelete="restrict", readonly=True)
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True)
    external_id = fields.Char(string="Channel Order ID", index=True, readonly=True, tracking=True)
    source = fields.Selection(
        [
            ("api", "API"),
            ("batch", "API batch"),
            ("webhook", "Platform webhook"),
            ("import", "File import"),
            ("demo", "Demo"),
        ],
        required=True,
        default="api",
        readonly=True,
    )
    payload = fields.Text(
        help="The order exactly as the channel sent it, when it was UTF-8 text (else a readable rendering of "
        "its bytes, which are kept in Raw Body)."
    )
    payload_raw = fields.Binary(
        string="Raw Body",
        attachment=False,
        readonly=True,
        help="The bytes as received, kept only when they are not UTF-8 text PostgreSQL can hold (NUL bytes, "
        "invalid UTF-8, UTF-16): the payload shows a rendering of them with escapes.",
    )
    payload_undecodable = fields.Boolean(
        string="Not UTF-8 Text",
        readonly=True,
        help="The body as received is not UTF-8 text (or holds NUL bytes): JSON must be sent in UTF-8.",
    )
    payload_pretty = fields.Text(compute="_compute_payload_pretty", string="Formatted Payload")
    payload_hash = fields.Char(compute="_compute_payload_hash", store=True, index=True, string="Payload SHA-256")
    received_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    processed_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("duplicate", "Duplicate"), ("stale", "Stale"), ("error", "Error")],
        required=True,
        default="pending",
        index=True,
        readonly=True,
        tracking=True,
    )
    error_code = fields.Selection(ERROR_CODES, readonly=True, tracking=True)
    error_field = fields.Char(readonly=True, help="The payload field that is wrong.")
    error_message = fields.Text(readonly=True)
    order_id = fields.Many2one("sale.order", readonly=True, index="btree_not_null", ondelete="set null")
    order_ref = fields.Char(
        string="Order Reference", readonly=True, help="Name of the order this intake created or duplicates."
    )
    attempt_count = fields.Integer(readonly=True, default=0, string="Attempts")
    cancel_requested = fields.Boolean(
        readonly=True, help="The channel cancelled this order before it could be created."
    )
    webhook_topic = fields.Char(
        readonly=True, help="The platform's webhook topic (orders/updated, order.created, ...)."
    )
    webhook_delivery_id = fields.Char(
        readonly=True,
        help="The delivery: Shopify's X-Shopify-Webhook-Id; for WooCommerce, topic, order id and date_modified_gmt. "
        "A repeated delivery is not stored twice.",
    )
    webhook_event_id = fields.Char(
        readonly=True,
        help="Shopify's X-Shopify-Event-Id: the same event delivered through two subscriptions is applied once.",
    )
    webhook_version = fields.Datetime(
        string="Platform Version",
        readonly=True,
        help="When the platform last updated the order this body holds (updated_at, date_modified_gmt).",
    )
    channel_reference = fields.Char(readonly=True, help="The order number the channel shows (#1001).")

    _webhook_delivery_uniq = models.Constraint(
        "UNIQUE (channel_id, webhook_delivery_id)", "This webhook delivery was already received."
    )
    _webhook_event_uniq = models.Constraint(
        "UNIQUE (channel_id, webhook_event_id)", "This webhook event was already received."
    )

    @api.depends("payload")
    def _compute_payload_hash(self):
        for intake in self:
            intake.payload_hash = sha256((intake.payload or "").encode()).hexdigest()

    @api.depends("payload")
    def _compute_payload_pretty(self):
        for intake in self:
            try:
                intake.payload_pretty = json.dumps(json.loads(intake.payload or ""), indent=2, ensure_ascii=False)
            except ValueError:
                intake.payload_pretty = intake.payload

    @api.depends("channel_id.code", "external_id")
    def _compute_display_name(self):
        for intake in self:
            intake.display_name = f"{intake.channel_id.code or ''}/{intake.external_id or _('?')}"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and not _PROCESSING.get():
            for vals in vals_list:
                decided = (PROCESSING_FIELDS - {"channel_id", "source", "received_at", "external_id"}).intersection(
                    vals
                )
                if decided:
                    raise AccessError(
                        _(
                            "%(fields)s of an intake are decided when it is processed, not given when it is created.",
                            fields=", ".join(self._fields[name].string for name in sorted(decided)),
                        )
                    )
        return super().create(vals_list)

    def write(self, vals):
        guarded = PROCESSING_FIELDS.intersection(vals)
        if guarded and not self.env.su and not _PROCESSING.get():
            raise AccessError(
                _(
                    "%(fields)s of an intake change only when it is processed: correct the payload of an intake "
                    "in error, then retry it.",
                    fields=", ".join(self._fields[name].string for name in sorted(guarded)),
                )
            )
        if "payload" in vals:
            if any(intake.state not in ("error", "pending") for intake in self):
                raise UserError(_("Only the payload of an intake in error can be corrected."))
            if vals["payload"] and text_problem(vals["payload"]):
                raise UserError(_("The payload %(problem)s: remove it.", problem=text_problem(vals["payload"])))
            if "payload_undecodable" not in vals and any(self.mapped("payload_undecodable")):
                # The desk typed a corrected body: it is text now; the bytes first received stay in Raw Body.
                self.sudo().payload_undecodable = False
        return super().write(vals)

    # ------------------------------------------------------------------
    # Entry points
    # ------------------------------------------------------------------
    @api.model
    def _store(self, channel, payloads, source="api"):
        """Store each payload as it came, before anything else is done with it: whatever it holds.

        :param channel: ``oms.channel`` record
        :param payloads: raw payloads (bytes or str as received, or already parsed objects)
        """
        now = fields.Datetime.now()
        # Its chatter starts with what came of it (order created, or why not): no "created" log, and the
        # integration user does not follow every intake it stores.
        with self._oms_processing():
            return self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(
                [
                    {"channel_id": channel.id, "source": source, "received_at": now, **self._payload_values(raw)}
                    for raw in payloads
                ]
            )

    @api.model
    def _payload_values(self, raw):
        """Values that keep ``raw`` losslessly: the text itself when PostgreSQL can hold it, else the bytes
        (``payload_raw``) and a readable rendering with escapes (``payload``)."""
        if not isinstance(raw, bytes | str):
            text = json.dumps(raw, ensure_ascii=False)
            if text_problem(text):  # a lone surrogate in a batch's order: escaped JSON is the same JSON
                text = json.dumps(raw)
            return {"payload": text, "payload_raw": False, "payload_undecodable": False}
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogatepass")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and "\x00" not in text:
            return {"payload": text, "payload_raw": False, "payload_undecodable": False}
        rendering = raw.decode("utf-8", "backslashreplace").replace("\x00", "\\x00")
        return {"payload": rendering, "payload_raw": base64.b64encode(raw), "payload_undecodable": True}

    def _payload_bytes(self):
        """The body exactly as the channel sent it (or as the desk corrected it)."""
        self.ensure_one()
        if self.payload_undecodable and self.payload_raw:
            return base64.b64decode(self.payload_raw)
        return (self.payload or "").encode("utf-8")

    @api.model
    def _receive(self, channel, payloads, source="api"):
        """Store, then process payloads of ``channel``.

        :return: list of (http_status, body dict) as API.md answers, in the order of ``payloads``
        """
        intakes = self._store(channel, payloads, source=source)
        with intakes._oms_processing():
            concurrent = intakes._process()
        return [intake._api_result(concurrent) for intake in intakes]

    @api.model
    def _receive_webhook(self, channel, body, topic, delivery_id=None, event_id=None, source="webhook"):
        """Store a platform's webhook body as it came, once per delivery and event, then map and apply it.

        :return: the intake, or None for a delivery (or event) received before: nothing is changed
        """
        delivery_id = storable(delivery_id)[:255] if delivery_id else False
        event_id = storable(event_id)[:255] if event_id else False
        if self._webhook_seen(channel, delivery_id, event_id):
            return None
        vals = {
            "channel_id": channel.id,
            "source": source,
            "received_at": fields.Datetime.now(),
            "webhook_topic": storable(topic),
            "webhook_delivery_id": delivery_id,
            "webhook_event_id": event_id,
            **self._payload_values(body),
        }
        try:
            with self.env.cr.savepoint(), self._oms_processing():
                intake = self.with_context(mail_create_nolog=True, mail_create_nosubscribe=True).create(vals)
        except psycopg2.errors.UniqueViolation as exc:
            if "webhook_" not in str(exc):
                raise
            return None  # a concurrent delivery of the same event stored it first
        with intake._oms_processing():
            intake._process()
        return intake

    @api.model
    def _webhook_seen(self, channel, delivery_id, event_id):
        keys = [
            (field, value)
            for field, value in (("webhook_delivery_id", delivery_id), ("webhook_event_id", event_id))
            if value
        ]
        if not keys:
            return False
        domain = Domain.OR([Domain(field, "=", value) for field, value in keys])
        return bool(self.search_count(Domain("channel_id", "=", channel.id) & domain, limit=1))

    def action_retry(self):
        """Process again the intake records in error (after the master data or payload was fixed)."""
        to_retry = self.filtered(lambda i: i.state in ("error", "pending"))
        if not to_retry:
            raise UserError(_("Only intake records in error or pending can be retried."))
        with to_retry._oms_processing():
            to_retry._process()
        done = to_retry.filtered(lambda i: i.state in ("done", "duplicate"))
        if len(self) == 1:
            return True
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "success" if done == to_retry else "warning",
                "message": _(
                    "%(done)s of %(total)s intake records processed; %(error)s still in error.",
                    done=len(done),
                    total=len(to_retry),
                    error=len(to_retry) - len(done),
                ),
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    @contextmanager
    def _oms_processing(self):
        """While intakes are processed, the processing writes their state, order and errors (a user's
        write cannot)."""
        token = _PROCESSING.set(True)
        try:
            yield
        finally:
            _PROCESSING.reset(token)

    def action_open_order(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "sale.order",
            "res_id": self.order_id.id,
            "view_mode": "form",
        }

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    def _process(self):
        """Map each intake's payload into a ``sale.order``.

        :return: {intake id: (order id, order name)} for duplicates whose order was committed by a
            concurrent transaction, which this transaction cannot read
        """
        if not self.env.context.get("oms_notify_in_background"):
            # A channel waits for the answer: the "received" email is composed by the step-email cron
            # right after, not inside the request.
            return self.with_context(oms_notify_in_background=True)._process()
        SaleOrder = self.env["sale.order"]
        concurrent = {}
        created = SaleOrder
        for intake in self:
            intake.attempt_count += 1
            if intake.payload_undecodable:
                intake._set_error("invalid_payload", intake._undecodable_message(), "")
                continue
            try:
                data = (webhooks.loads if intake.webhook_topic else json.loads)(intake.payload or "")
            except (ValueError, RecursionError) as exc:
                message = str(exc) if isinstance(exc, ValueError) else _("nested too deep")
                intake._set_error(
                    "invalid_payload",
                    _("The body is not valid JSON: %(error)s", error=storable(message)),
                    "",
                )
                continue
            if intake.webhook_topic:
                data = intake._process_webhook(data)
                if data is None:
                    continue  # applied to the existing order, stale, or in error
            try:
                external_id = validate_payload(data)
            except IntakeInvalid as exc:
                if isinstance(data, dict) and isinstance(data.get("external_id"), str | int):
                    intake.external_id = storable(str(data["external_id"]).strip())[:128]
                intake._set_error("invalid_payload", exc.message, exc.field)
                continue
            intake.external_id = external_id
            channel = intake.channel_id
            existing = SaleOrder.search(
                [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", external_id)], limit=1
            )
            if existing:
                intake._set_duplicate(existing)
                continue
            try:
                with self.env.cr.savepoint():
                    vals = intake._prepare_order_values(data)
                    # No "you were assigned" email to the channel responsible for every order that comes in;
                    # the order's first chatter line is "received from channel …" (_set_done), not "created".
                    order = SaleOrder.with_context(
                        mail_create_nosubscribe=True, mail_auto_subscribe_no_notify=True, mail_create_nolog=True
                    ).create(vals)
                    order._oms_apply_channel_prices(bool(data.get("taxes_included")))
            except IntakeMappingError as exc:
                intake._set_error(exc.code, exc.message)
                continue
            except IntakeInvalid as exc:
                intake._set_error("invalid_payload", exc.message, exc.field)
                continue
            except psycopg2.errors.UniqueViolation as exc:
                if "oms_channel_external_uniq" not in str(exc):
                    raise
                # Another transaction created this order between our search and our insert.
                concurrent[intake.id] = intake._set_duplicate_of_concurrent(channel, external_id)
                continue
            except (UserError, ValidationError) as exc:
                intake._set_error("mapping_error", _("Odoo refused the order: %(error)s", error=exc.args[0]))
                continue
            except CONCURRENCY_ERRORS:
                raise  # Odoo retries the whole request
            except Exception as exc:  # a bug must not lose the order: keep it in error, with the reason
                _logger.exception("OMS intake %s: unexpected error while creating the order", intake.id)
                intake._set_error(
                    "mapping_error",
                    _(
                        "Unexpected error while creating the order (%(error)s). The payload is kept: "
                        "retry once the cause is fixed, or report this message to your Odoo partner.",
                        error=repr(exc),
                    ),
                )
                continue
            intake._set_done(order, data)
            if order.state != "cancel":
                order._oms_check_channel_total(data.get("total"))
            created |= order
        created = created.filtered(lambda o: o.state == "draft")
        try:
            with self.env.cr.savepoint():
                created._oms_after_intake()
        except CONCURRENCY_ERRORS:
            raise
        except Exception:  # the orders exist: a failing policy must not take them (and their payloads) away
            _logger.exception("OMS intake: confirmation policy failed for orders %s", created.ids)
            for order in created:
                order._message_log(
                    body=_("The channel's confirmation policy could not be applied: confirm this order by hand.")
                )
        return concurrent

    # ------------------------------------------------------------------
    # Platform webhooks
    # ------------------------------------------------------------------
    def _process_webhook(self, data):
        """Read a platform's webhook body (already parsed).

        :return: the API.md order to create through the usual path, or None when the body was applied to the
            channel's existing order, was stale, or is in error (this intake says which)
        """
        self.ensure_one()
        try:
            self._identify_webhook(data)
            with self.env.cr.savepoint():
                return self._apply_webhook(data)
        except webhooks.WebhookInvalid as exc:
            self._set_error("invalid_payload", storable(exc.message), storable(exc.field))
        except IntakeInvalid as exc:
            self._set_error("invalid_payload", exc.message, exc.field)
        except IntakeMappingError as exc:
            self._set_error(exc.code, exc.message)
        except (UserError, ValidationError) as exc:
            self._set_error("mapping_error", _("Odoo refused the change: %(error)s", error=exc.args[0]))
        except CONCURRENCY_ERRORS:
            raise
        except Exception as exc:  # a bug must not lose the body: keep it in error, with the reason
            _logger.exception("OMS intake %s: unexpected error while applying a webhook", self.id)
            self._set_error(
                "mapping_error",
                _(
                    "Unexpected error while applying the webhook (%(error)s). The body is kept: retry once the "
                    "cause is fixed, or report this message to your Odoo partner.",
                    error=repr(exc),
                ),
            )
        return None

    def _mapper(self):
        self.ensure_one()
        mapper = PLATFORM_MAPPERS.get(self.channel_id.platform)
        if not mapper:
            raise IntakeInvalid(
                "", _("Channel %(channel)s does not take platform webhooks.", channel=self.channel_id.name)
            )
        return mapper

    def _identify_webhook(self, data):
        """Keep on the intake which order (and which version of it) the body is, for the desk's list."""
        mapper = self._mapper()
        self.write(
            {
                "external_id": validate_external_id(mapper.external_id(data, self.webhook_topic)),
                "webhook_version": mapper.version(data, self.webhook_topic),
                "channel_reference": storable(mapper.reference(data) or "") or False,
            }
        )

    def _apply_webhook(self, data):
        self.ensure_one()
        channel = self.channel_id
        mapper = self._mapper()
        topic = self.webhook_topic
        external_id = self.external_id
        version = self.webhook_version
        order = self.env["sale.order"].search(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", external_id)], limit=1
        )
        if topic == "refunds/create":
            if not order:
                raise IntakeMappingError(
                    "mapping_error",
                    _("The refund's order %(order)s has not been received yet: retry once it is.", order=external_id),
                )
            summary = order._oms_record_platform_refund(shopify.refund(data))
            self._set_applied(order, summary or _("Refund recorded on order %(order)s.", order=order.name))
            return None
        cancelled = mapper.is_cancelled(data, topic)
        if topic == "order.deleted":
            if order:
                order._oms_platform_cancel()
                self._set_applied(order, _("The channel deleted order %(order)s.", order=order.name))
            else:
                pending = self.search(
                    [
                        ("channel_id", "=", channel.id),
                        ("external_id", "=", external_id),
                        ("state", "in", ("error", "pending")),
                        ("id", "!=", self.id),
                    ]
                )
                pending.write({"cancel_requested": True})
                self._set_applied(order, _("The channel deleted this order before it was created."))
            return None
        if order:
            if version and order.oms_platform_version and version < order.oms_platform_version:
                self._set_stale(order)
                return None
            values = mapper.to_order(data, self._known_shipping_methods())
            validate_payload(values)
            summary = order._oms_apply_platform_update(values, cancelled, self)
            if version and (not order.oms_platform_version or version > order.oms_platform_version):
                order.oms_platform_version = version
            self._set_applied(order, summary)
            return None
        values = mapper.to_order(data, self._known_shipping_methods())
        if cancelled:
            self.cancel_requested = True
        return values

    def _known_shipping_methods(self):
        return {mapping.method.strip().lower() for mapping in self.channel_id.carrier_map_ids if mapping.method}

    def _set_applied(self, order, summary):
        """A webhook body applied to an existing order (or to none: a deletion of an order never created)."""
        self.ensure_one()
        self.write(self._outcome_values("done", order))
        self._message_log(body=summary or _("Nothing changed on order %(order)s.", order=order.name))

    def _set_stale(self, order):
        """An older version of the order than the one it was last updated from: kept, not applied."""
        self.ensure_one()
        self.write(
            {
                "state": "stale",
                "order_id": order.id,
                "order_ref": order.name,
                "processed_at": fields.Datetime.now(),
            }
        )
        self._message_log(
            body=_(
                "Stale: this body is the order as of %(version)s UTC, order %(order)s was already updated from "
                "the version of %(current)s UTC. Not applied.",
                version=fields.Datetime.to_string(self.webhook_version),
                order=order.name,
                current=fields.Datetime.to_string(order.oms_platform_version),
            )
        )

    def _undecodable_message(self):
        self.ensure_one()
        raw = self._payload_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return _(
                "The body is not UTF-8 text (byte 0x%(byte)s at position %(position)s): send the JSON encoded "
                "in UTF-8. The bytes received are kept in Raw Body.",
                byte=raw[exc.start : exc.start + 1].hex(),
                position=exc.start,
            )
        return _(
            "The body holds a NUL byte at position %(position)s, which JSON does not allow: send the JSON "
            "without it (escape it as \\u0000 inside a string if it is data). The bytes are kept in Raw Body.",
            position=raw.index(b"\x00"),
        )

    def _prepare_order_values(self, data):
        """``sale.order`` create values for a valid payload.

        :raises IntakeMappingError: when something of the payload has no match in Odoo yet
        """
        self.ensure_one()
        channel = self.channel_id
        company = channel.company_id
        pricelist = self._map_pricelist(data.get("currency"))
        countries = self._map_countries(data)
        products = self._map_products([line["sku"] for line in data["lines"]])
        shipping = data.get("shipping") or {}
        carrier = self.env["delivery.carrier"]
        if shipping.get("method"):
            carrier = channel._find_carrier(shipping["method"])
            if not carrier:
                raise IntakeMappingError(
                    "mapping_error",
                    _(
                        "Shipping method “%(method)s” has no carrier on channel %(channel)s: map it "
                        "under the channel's Shipping Methods (or set a default carrier), then retry.",
                        method=shipping["method"],
                        channel=channel.name,
                    ),
                )
        elif channel.default_carrier_id and shipping.get("price"):
            carrier = channel.default_carrier_id

        customer, invoice_contact, delivery_contact = self.env["res.partner"]._oms_customer_contacts(
            data, countries, lang=channel.lang, company=company
        )
        lines = []
        for index, line in enumerate(data["lines"]):
            product = products[str(line["sku"]).strip()]
            self._check_quantity(line["quantity"], product, f"lines[{index}].quantity")
            vals = {"product_id": product.id, "product_uom_qty": line["quantity"]}
            if line.get("unit_price") is not None:
                vals["price_unit"] = line["unit_price"]
            if line.get("discount"):
                vals["discount"] = line["discount"]
            if line.get("name"):
                vals["name"] = line["name"]
            lines.append(fields.Command.create(vals))
        if carrier:
            lines.append(
                fields.Command.create(
                    {
                        "product_id": carrier.product_id.id,
                        "name": carrier.name,
                        "product_uom_qty": 1,
                        "price_unit": shipping.get("price") or 0.0,
                        "is_delivery": True,
                    }
                )
            )
        payment = data.get("payment") or {}
        placed_at = parse_datetime(str(data["placed_at"])) if data.get("placed_at") else self.received_at
        vals = {
            "partner_id": customer.id,
            "partner_invoice_id": invoice_contact.id,
            "partner_shipping_id": delivery_contact.id,
            "company_id": company.id,
            "date_order": placed_at,
            "client_order_ref": self.channel_reference or self.external_id,
            "oms_channel_id": channel.id,
            "oms_external_id": self.external_id,
            "oms_intake_id": self.id,
            "oms_placed_at": placed_at,
            "oms_customer_note": data.get("note") or False,
            "oms_shipping_method": (data.get("shipping") or {}).get("method") or False,
            "oms_gift_message": data.get("gift_message") or False,
            "oms_payment_status": payment.get("status") or False,
            "oms_payment_method": payment.get("method") or False,
            "oms_payment_reference": payment.get("reference") or False,
            "oms_payment_amount": payment.get("amount") or 0.0,
            "oms_channel_total": data.get("total") or 0.0,
            # Paid on the channel already: no online signature or payment asked on the portal.
            "require_signature": False,
            "require_payment": False,
            "order_line": lines,
        }
        if self.webhook_version:
            vals["oms_platform_version"] = self.webhook_version
        if pricelist is not None:
            vals["pricelist_id"] = pricelist.id
        if channel.fiscal_position_id:
            vals["fiscal_position_id"] = channel.fiscal_position_id.id
        if channel.warehouse_id:
            vals["warehouse_id"] = channel.warehouse_id.id
        if channel.team_id:
            vals["team_id"] = channel.team_id.id
        if channel.user_id:
            vals["user_id"] = channel.user_id.id
        if carrier:
            vals["carrier_id"] = carrier.id
        return vals

    @api.model
    def _check_quantity(self, quantity, product, field):
        """A quantity is positive in the product's unit precision, and within it (0.0001 mug is no order).

        :raises IntakeInvalid: naming ``field``
        """
        rounding = product.uom_id.rounding or 0.01
        rounded = float_round(quantity, precision_rounding=rounding)
        if float_is_zero(rounded, precision_rounding=rounding) or float_compare(
            rounded, quantity, precision_rounding=rounding / 1000
        ):
            raise IntakeInvalid(
                field,
                _(
                    "%(field)s is %(quantity)s, but %(product)s is counted in steps of %(step)s %(unit)s: send a "
                    "quantity greater than 0 in those steps.",
                    field=field,
                    quantity=quantity,
                    product=product.display_name,
                    step=rounding,
                    unit=product.uom_id.name,
                ),
            )

    def _map_pricelist(self, code):
        """The pricelist for the payload's currency (``None``: let Odoo choose as usual)."""
        channel = self.channel_id
        if not code:
            return channel.pricelist_id if channel.pricelist_id else None
        code = code.upper()
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if not currency:
            raise IntakeMappingError(
                "unknown_currency", _("Currency “%(code)s” does not exist in Odoo: send an ISO 4217 code.", code=code)
            )
        if not currency.active:
            raise IntakeMappingError(
                "unknown_currency",
                _(
                    "Currency %(code)s is not active: activate it in Accounting > Configuration > "
                    "Currencies, then retry.",
                    code=code,
                ),
            )
        if channel.pricelist_id.currency_id == currency:
            return channel.pricelist_id
        if not channel.pricelist_id and channel.currency_id == currency:
            return None
        pricelist = self.env["product.pricelist"].search(
            [("currency_id", "=", currency.id), ("company_id", "in", (False, channel.company_id.id))], limit=1
        )
        if not pricelist:
            raise IntakeMappingError(
                "unknown_currency",
                _(
                    "Channel %(channel)s sells in %(channel_currency)s and Odoo has no pricelist in "
                    "%(code)s: create a pricelist in %(code)s, then retry.",
                    channel=channel.name,
                    channel_currency=channel.currency_id.name,
                    code=code,
                ),
            )
        return pricelist

    def _map_countries(self, data):
        """{country code: res.country} for the payload's addresses."""
        codes = {
            (data[key].get("country_code") or "").strip().upper()
            for key in ("shipping_address", "billing_address")
            if data.get(key)
        }
        countries = self.env["res.country"].search([("code", "in", list(codes))])
        found = {country.code: country for country in countries}
        missing = sorted(codes - set(found))
        if missing:
            raise IntakeMappingError(
                "unknown_country",
                _(
                    "Unknown country code %(codes)s: use ISO 3166-1 alpha-2 codes such as US or DE.",
                    codes=", ".join(missing),
                ),
            )
        return found

    def _map_products(self, skus):
        """{sku: product.product}, by internal reference then barcode, active products only."""
        skus = {str(sku).strip() for sku in skus}
        company = self.channel_id.company_id
        Product = self.env["product.product"].with_context(active_test=False)
        company_domain = [("company_id", "in", (False, company.id))]
        found = {}
        for field in ("default_code", "barcode"):
            wanted = skus - set(found)
            if not wanted:
                break
            for product in Product.search([(field, "in", list(wanted)), *company_domain], order="active desc, id"):
                found.setdefault(product[field], product)
        unknown = sorted(skus - set(found))
        if unknown:
            raise IntakeMappingError(
                "unknown_sku",
                _(
                    "No product has the internal reference or barcode %(skus)s: create the product or "
                    "set its internal reference to the channel's SKU, then retry.",
                    skus=", ".join(unknown),
                ),
            )
        inactive = sorted(sku for sku, product in found.items() if not product.active or not product.sale_ok)
        if inactive:
            raise IntakeMappingError(
                "inactive_product",
                _(
                    "The product of SKU %(skus)s is archived or cannot be sold: restore it (or tick "
                    "“Sales”), then retry.",
                    skus=", ".join(inactive),
                ),
            )
        return found

    def _set_error(self, code, message, field=None):
        self.ensure_one()
        self.sudo().write(
            {
                "state": "error",
                "error_code": code,
                "error_message": message,
                "error_field": field,
                "processed_at": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=_("Intake failed (%(code)s): %(message)s", code=code, message=message),
            message_type="notification",
        )

    @api.model
    def _outcome_values(self, state, order):
        """What an intake that ended in ``state`` with ``order`` records: the order, no error, when."""
        return {
            "state": state,
            "order_id": order.id,
            "order_ref": order.name,
            "error_code": False,
            "error_message": False,
            "error_field": False,
            "processed_at": fields.Datetime.now(),
        }

    def _set_duplicate(self, order):
        self.ensure_one()
        self.write(self._outcome_values("duplicate", order))
        self.message_post(
            body=_("Duplicate: order %(order)s already exists for this external id.", order=order.name),
            message_type="notification",
        )

    def _set_done(self, order, data):
        self.ensure_one()
        self.write(self._outcome_values("done", order))
        # Earlier attempts of the same order that failed are superseded by this one.
        superseded = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("external_id", "=", self.external_id),
                ("state", "=", "error"),
                ("id", "!=", self.id),
                ("webhook_topic", "!=", "refunds/create"),  # a refund is not the order: it waits for it
            ]
        )
        superseded.write({"state": "duplicate", "order_id": order.id, "order_ref": order.name})
        order._message_log(
            body=_(
                "Order received from channel %(channel)s (external id %(external_id)s) through intake %(intake)s.",
                channel=self.channel_id.name,
                external_id=self.external_id,
                intake=self.id,
            )
        )
        self._message_log(body=_("Order %(order)s created.", order=order.name))
        if self.cancel_requested or any(superseded.mapped("cancel_requested")):
            order._oms_cancel_from_channel()
        waiting_refunds = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("external_id", "=", self.external_id),
                ("state", "=", "error"),
                ("webhook_topic", "=", "refunds/create"),
            ]
        )
        if waiting_refunds:
            waiting_refunds._process()  # the refunds that came before their order are recorded now

    def _set_duplicate_of_concurrent(self, channel, external_id):
        """Another transaction created this order after our snapshot was taken.

        Our snapshot cannot see that order (and a foreign key to it would fail), so it is read
        from a fresh cursor, and linked to this intake once this transaction has committed.
        """
        self.ensure_one()
        with self.env.registry.cursor() as cr:
            cr.execute(
                "SELECT id, name FROM sale_order WHERE oms_channel_id = %s AND oms_external_id = %s",
                [channel.id, external_id],
            )
            order_id, order_name = cr.fetchone() or (None, None)
        self.write(
            {
                "state": "duplicate",
                "order_id": False,
                "order_ref": order_name,
                "error_code": False,
                "error_message": False,
                "error_field": False,
                "processed_at": fields.Datetime.now(),
            }
        )
        self.message_post(
            body=_(
                "Duplicate: order %(order)s was created by a concurrent delivery of the same order.", order=order_name
            ),
            message_type="notification",
        )
        if order_id:
            registry, intake_id = self.env.registry, self.id

            @self.env.cr.postcommit.add
            def _link_order():
                with registry.cursor() as cr:
                    cr.execute("UPDATE oms_intake SET order_id = %s WHERE id = %s", [order_id, intake_id])

        return order_id, order_name

    def _api_result(self, concurrent=None):
        """(http_status, body) for this intake, as API.md answers it."""
        self.ensure_one()
        if self.state == "done":
            return 201, {"status": "created", "order": self.order_id.name, "id": self.order_id.id, "intake": self.id}
        if self.state == "duplicate":
            if self.order_id:
                return 200, {"status": "duplicate", "order": self.order_id.name, "id": self.order_id.id}
            order_id, order_name = (concurrent or {}).get(self.id, (None, self.order_ref))
            return 200, {"status": "duplicate", "order": order_name, "id": order_id}
        if self.error_code == "invalid_payload":
            return 400, {
                "status": "invalid",
                "error": {"code": "invalid_payload", "field": self.error_field or "", "message": self.error_message},
            }
        return 422, {
            "status": "error",
            "intake": self.id,
            "error": {"code": self.error_code, "message": self.error_message},
        }
