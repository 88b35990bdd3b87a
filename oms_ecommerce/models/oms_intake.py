# Longer than ~400 lines on purpose: the intake record (its fields, the system-written fields' guard), its
# entry points and the processing state machine with its outcomes read best together; the mapping of a payload
# (oms_intake_mapping.py) and the webhooks (oms_intake_webhooks.py) live apart.
import base64
import json
import logging
from contextlib import contextmanager
from contextvars import ContextVar
from hashlib import sha256

import psycopg2.errors

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.fields import Domain

from ..tools import shopify, webhooks, woocommerce
from ..tools.actions import window_action
from ..tools.payload import (
    IntakeInvalid,
    storable,
    text_problem,
    validate_payload,
)

_logger = logging.getLogger(__name__)

ERROR_CODES = [
    ("invalid_payload", "Invalid payload"),
    ("unknown_sku", "Unknown SKU"),
    ("unknown_country", "Unknown country"),
    ("unknown_currency", "Unknown currency"),
    ("inactive_product", "Inactive product"),
    ("mapping_error", "Mapping error"),
]
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


class IntakeMappingError(Exception):
    """A valid payload that cannot be mapped yet (unknown SKU, country, ...)."""

    def __init__(self, code, message):
        super().__init__(message)
        self.code = code
        self.message = message


class OmsIntake(models.Model):
    _name = "oms.intake"
    _check_company_auto = True
    _description = "Order Intake"
    _inherit = ["mail.thread"]
    _order = "id desc"
    _rec_name = "display_name"

    channel_id = fields.Many2one("oms.channel", required=True, index=True, ondelete="restrict", readonly=True)
    # Precomputed (as the payload's hash): in the intake's insert, not an update right after it.
    company_id = fields.Many2one(related="channel_id.company_id", store=True, index=True, precompute=True)
    # Written by the intake alone, each outcome with its own chatter line ("Order … created", "Intake failed
    # (…)", "Duplicate …"): no tracking message besides it.
    external_id = fields.Char(string="Channel Order ID", index=True, readonly=True)
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
    payload_hash = fields.Char(
        compute="_compute_payload_hash", store=True, index=True, precompute=True, string="Payload SHA-256"
    )
    received_at = fields.Datetime(required=True, default=fields.Datetime.now, readonly=True)
    processed_at = fields.Datetime(readonly=True)
    state = fields.Selection(
        [("pending", "Pending"), ("done", "Done"), ("duplicate", "Duplicate"), ("stale", "Stale"), ("error", "Error")],
        required=True,
        default="pending",
        index=True,
        readonly=True,
    )
    error_code = fields.Selection(ERROR_CODES, readonly=True)
    error_field = fields.Char(readonly=True, help="The payload field that is wrong.")
    error_message = fields.Text(readonly=True)
    order_id = fields.Many2one(
        "sale.order", readonly=True, index="btree_not_null", ondelete="set null", check_company=True
    )
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
            intake.display_name = f"{intake.channel_id.code or ''}/{intake.external_id or self.env._('?')}"

    @api.model_create_multi
    def create(self, vals_list):
        if not self.env.su and not _PROCESSING.get():
            for vals in vals_list:
                decided = (PROCESSING_FIELDS - {"channel_id", "source", "received_at", "external_id"}).intersection(
                    vals
                )
                if decided:
                    raise AccessError(
                        self.env._(
                            "%(fields)s of an intake are decided when it is processed, not given when it is created.",
                            fields=", ".join(self._fields[name].string for name in sorted(decided)),
                        )
                    )
        return super().create(vals_list)

    def write(self, vals):
        guarded = PROCESSING_FIELDS.intersection(vals)
        if guarded and not self.env.su and not _PROCESSING.get():
            raise AccessError(
                self.env._(
                    "%(fields)s of an intake change only when it is processed: correct the payload of an intake "
                    "in error, then retry it.",
                    fields=", ".join(self._fields[name].string for name in sorted(guarded)),
                )
            )
        if "payload" in vals:
            if any(intake.state not in ("error", "pending") for intake in self):
                raise UserError(self.env._("Only the payload of an intake in error can be corrected."))
            if vals["payload"] and text_problem(vals["payload"]):
                raise UserError(
                    self.env._("The payload %(problem)s: remove it.", problem=text_problem(vals["payload"]))
                )
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
            raise UserError(self.env._("Only intake records in error or pending can be retried."))
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
                "message": self.env._(
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
        return window_action(self.order_id)

    # ------------------------------------------------------------------
    # Processing
    # ------------------------------------------------------------------
    def _process(self):
        """Map each intake's payload into a ``sale.order``.

        :return: {intake id: (order id, order name)} for duplicates whose order was committed by a
            concurrent transaction, which this transaction cannot read
        """
        if not self.env.context.get("oms_notify_in_background"):
            # A channel waits for the answer: the "received" email is composed by a queue job
            # right after, not inside the request.
            concurrent = self.with_context(oms_notify_in_background=True)._process()
            self.env["oms.order.step"]._oms_enqueue_gathered()
            return concurrent
        concurrent = {}
        created = self.env["sale.order"]
        for intake in self:
            intake.attempt_count += 1
            data, external_id = intake._load_payload()
            if data is not None:
                created |= intake._create_order(data, external_id, concurrent)
        self._apply_confirmation_policy(created.filtered(lambda o: o.state == "draft"))
        return concurrent

    def _load_payload(self):
        """This intake's order object (a webhook's body mapped to API.md's shape first), checked against API.md.

        :return: (the order object, its external id), or (None, None) when the intake is done with: in error
            (kept, with what is wrong) or a webhook applied to an existing order
        """
        self.ensure_one()
        if self.payload_undecodable:
            self._set_error("invalid_payload", self._undecodable_message(), "")
            return None, None
        try:
            data = (webhooks.loads if self.webhook_topic else json.loads)(self.payload or "")
        except (ValueError, RecursionError) as exc:
            message = str(exc) if isinstance(exc, ValueError) else self.env._("nested too deep")
            self._set_error(
                "invalid_payload", self.env._("The body is not valid JSON: %(error)s", error=storable(message)), ""
            )
            return None, None
        if self.webhook_topic:
            data = self._process_webhook(data)
            if data is None:
                return None, None  # applied to the existing order, stale, or in error
        try:
            external_id = validate_payload(data)
        except IntakeInvalid as exc:
            if isinstance(data, dict) and isinstance(data.get("external_id"), str | int):
                self.external_id = storable(str(data["external_id"]).strip())[:128]
            self._set_error("invalid_payload", exc.message, exc.field)
            return None, None
        self.external_id = external_id
        return data, external_id

    def _create_order(self, data, external_id, concurrent):
        """The channel order of this intake's checked payload, created in a savepoint.

        :param concurrent: {intake id: (order id, name)}, completed when a concurrent transaction created the
            order first
        :return: the new order, or an empty recordset: a duplicate, or an error kept on the intake
        """
        self.ensure_one()
        SaleOrder = self.env["sale.order"]
        channel = self.channel_id
        existing = SaleOrder.search(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", external_id)], limit=1
        )
        if existing:
            self._set_duplicate(existing)
            return SaleOrder
        try:
            with self.env.cr.savepoint():
                vals = self._prepare_order_values(data)
                # No "you were assigned" email to the channel responsible for every order that comes in;
                # the order's first chatter line is "received from channel …" (_set_done), not "created".
                order = SaleOrder.with_context(
                    mail_create_nosubscribe=True, mail_auto_subscribe_no_notify=True, mail_create_nolog=True
                ).create(vals)
                order._oms_apply_channel_prices(bool(data.get("taxes_included")))
        except IntakeMappingError as exc:
            self._set_error(exc.code, exc.message)
            return SaleOrder
        except IntakeInvalid as exc:
            self._set_error("invalid_payload", exc.message, exc.field)
            return SaleOrder
        except psycopg2.errors.UniqueViolation as exc:
            if "oms_channel_external_uniq" not in str(exc):
                raise
            # Another transaction created this order between our search and our insert.
            concurrent[self.id] = self._set_duplicate_of_concurrent(channel, external_id)
            return SaleOrder
        except (UserError, ValidationError) as exc:
            self._set_error("mapping_error", self.env._("Odoo refused the order: %(error)s", error=exc.args[0]))
            return SaleOrder
        except CONCURRENCY_ERRORS:
            raise  # Odoo retries the whole request
        except Exception as exc:  # a bug must not lose the order: keep it in error, with the reason
            _logger.exception("OMS intake %s: unexpected error while creating the order", self.id)
            self._set_error(
                "mapping_error",
                self.env._(
                    "Unexpected error while creating the order (%(error)s). The payload is kept: "
                    "retry once the cause is fixed, or report this message to your Odoo partner.",
                    error=repr(exc),
                ),
            )
            return SaleOrder
        self._set_done(order, data)
        if order.state != "cancel":
            order._oms_check_channel_total(data.get("total"))
        return order

    @api.model
    def _apply_confirmation_policy(self, orders):
        """The channels' confirmation policy on the new draft ``orders``: those it confirms are confirmed in a
        savepoint, so that a failing policy does not take the orders (and their payloads) away. Choosing them
        only reads: no savepoint (two queries of every request) when the policy confirms none."""
        try:
            auto = orders._oms_auto_confirmable()
            if auto:
                with self.env.cr.savepoint():
                    auto._oms_confirm_safely()
        except CONCURRENCY_ERRORS:
            raise
        except Exception:
            _logger.exception("OMS intake: confirmation policy failed for orders %s", orders.ids)
            for order in orders:
                order._message_log(
                    body=self.env._(
                        "The channel's confirmation policy could not be applied: confirm this order by hand."
                    )
                )

    def _undecodable_message(self):
        self.ensure_one()
        raw = self._payload_bytes()
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            return self.env._(
                "The body is not UTF-8 text (byte 0x%(byte)s at position %(position)s): send the JSON encoded "
                "in UTF-8. The bytes received are kept in Raw Body.",
                byte=raw[exc.start : exc.start + 1].hex(),
                position=exc.start,
            )
        return self.env._(
            "The body holds a NUL byte at position %(position)s, which JSON does not allow: send the JSON "
            "without it (escape it as \\u0000 inside a string if it is data). The bytes are kept in Raw Body.",
            position=raw.index(b"\x00"),
        )

    # ------------------------------------------------------------------
    # Outcomes
    # ------------------------------------------------------------------
    def _set_outcome(self, state, order=None, message=None, notify=False, **values):
        """Record how this intake ended, the one writer of an intake's outcome: its ``state``, its ``order``, no
        error left (unless ``values`` name one), when; and one chatter line, ``message`` (a notification when
        ``notify``, otherwise a log note)."""
        self.ensure_one()
        vals = {
            "state": state,
            "error_code": False,
            "error_message": False,
            "error_field": False,
            "processed_at": fields.Datetime.now(),
        }
        if order is not None:
            vals.update(order_id=order.id, order_ref=order.name)
        vals.update(values)
        self.sudo().write(vals)
        if message and notify:
            self.message_post(body=message, message_type="notification")
        elif message:
            self._message_log(body=message)

    def _set_error(self, code, message, field=None):
        self._set_outcome(
            "error",
            message=self.env._("Intake failed (%(code)s): %(message)s", code=code, message=message),
            notify=True,
            error_code=code,
            error_message=message,
            error_field=field,
        )

    def _set_duplicate(self, order):
        self._set_outcome(
            "duplicate",
            order,
            self.env._("Duplicate: order %(order)s already exists for this external id.", order=order.name),
            notify=True,
        )

    def _set_done(self, order, data):
        # A first attempt that creates its order leaves no chatter line on the intake: its state, order and
        # processed time say it, and the order's own line says where it came from (one message per order
        # received, not two). A retry that succeeds says so under the errors it had.
        created = self.env._("Order %(order)s created.", order=order.name) if self.attempt_count > 1 else None
        self._set_outcome("done", order, created)
        # Earlier attempts of the same order that failed are superseded by this one; the refunds that came
        # before their order waited in error too: both found by one search.
        earlier = self.search(
            [
                ("channel_id", "=", self.channel_id.id),
                ("external_id", "=", self.external_id),
                ("state", "=", "error"),
                ("id", "!=", self.id),
            ]
        )
        waiting_refunds = earlier.filtered(lambda intake: intake.webhook_topic == "refunds/create")
        superseded = earlier - waiting_refunds  # a refund is not the order: it waits for it
        superseded.write({"state": "duplicate", "order_id": order.id, "order_ref": order.name})
        order._message_log(
            body=self.env._(
                "Order received from channel %(channel)s (external id %(external_id)s) through intake %(intake)s.",
                channel=self.channel_id.name,
                external_id=self.external_id,
                intake=self.id,
            )
        )
        if self.cancel_requested or any(superseded.mapped("cancel_requested")):
            order._oms_cancel_from_channel()
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
        self._set_outcome(
            "duplicate",
            message=self.env._(
                "Duplicate: order %(order)s was created by a concurrent delivery of the same order.", order=order_name
            ),
            notify=True,
            order_id=False,
            order_ref=order_name,
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
