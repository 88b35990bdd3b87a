# Longer than ~400 lines on purpose: API.md is one contract, so its routes (orders, batch, status, cancel, delivered, returns) live together with the signature check and error answers they share; each route is short.
"""The channel API of API.md: web shops and marketplaces push orders and read their state."""

import json
import logging

from odoo import fields, http
from odoo.exceptions import UserError
from odoo.http import request

from ..models.oms_intake import CONCURRENCY_ERRORS, MAX_BATCH
from ..models.sale_order import OmsDeliveredAtError
from ..tools.payload import clean_text, parse_datetime, storable, text_problem

_logger = logging.getLogger(__name__)

MAX_BODY = 1024 * 1024  # 1 MiB
API_ROUTE = "/oms/v1/<string:code>/orders"
# Where an authentic order body waits, in case an unexpected failure rolls back its intake (see _guard).
KEPT_BODY = "oms.kept_body"


def _json(body, status=200, headers=None):
    """A JSON answer. ASCII-escaped, so that whatever a request echoes back (a lone surrogate in an id)
    can always be sent."""
    return request.make_response(
        json.dumps(body, default=str), headers=[("Content-Type", "application/json"), *(headers or [])], status=status
    )


def _api_route(path, readonly=False):
    """A channel API route: no session, no CSRF token (requests are signed). Every method reaches the
    handler, which answers a method it does not take with a JSON 405 (never Odoo's HTML page)."""
    return http.route(path, type="http", auth="none", csrf=False, save_session=False, readonly=readonly)


def _usable_id(value):
    """Whether a code or an external id taken from the path can name a record (no NUL, no control
    character, no broken UTF-8): anything else names nothing, 404."""
    return bool(value) and not text_problem(value) and not any(ord(char) < 32 or char == "\x7f" for char in value)


def order_status(order):
    """The order as ``GET orders/<external_id>`` answers it (API.md): its step, the steps it reached and when,
    its tracking."""
    return {
        "external_id": order.oms_external_id,
        "order": order.name,
        "step": order.oms_step,
        "steps": [
            {"step": s.step, "at": fields.Datetime.to_datetime(s.at).strftime("%Y-%m-%dT%H:%M:%SZ")}
            for s in order.oms_step_ids.sorted(lambda s: (s.at, s.id))
        ],
        "tracking": order._oms_tracking(),
    }


class OmsChannelApi(http.Controller):
    # ------------------------------------------------------------------
    # Plumbing shared by every endpoint
    # ------------------------------------------------------------------
    def _request_path(self):
        """The request path with its query string, exactly as the client sent it (what it signed)."""
        httprequest = request.httprequest
        raw_uri = httprequest.environ.get("RAW_URI") or httprequest.environ.get("REQUEST_URI")
        if raw_uri:
            return raw_uri.encode("latin-1", errors="replace").decode("utf-8", errors="surrogateescape")
        query = httprequest.query_string.decode("latin-1")
        return httprequest.path + (f"?{query}" if query else "")

    def _authorize(self, code, read_body=True):
        """Check a request in the order API.md answers: unknown channel 404, body over 1 MiB 413,
        signature 401. Returns (channel, env of the integration user, body, None), or
        (None, None, None, error response)."""
        channel = self._find_channel(code)
        if not channel:
            return None, None, None, _json({"status": "not_found"}, 404)
        body = b""
        if read_body:
            body, error = self._read_body()
            if error:
                return None, None, None, error
        channel, env, error = self._authenticate(code, body, channel=channel)
        return channel, env, body, error

    def _find_channel(self, code):
        """The active channel of ``code`` (as superuser: the request is not authenticated yet), or None."""
        if not _usable_id(code):
            return None
        # search_fetch: found and read in one query (its secret, company and settings are read next)
        return request.env(su=True)["oms.channel"].search_fetch([("code", "=", code), ("active", "=", True)], limit=1)

    def _authenticate(self, code, body=b"", channel=None):
        """(channel, env of the integration user, None) or (None, None, error response).

        :param channel: the channel of ``code``, when the caller found it already
        """
        channel = channel or self._find_channel(code)
        if not channel:
            return None, None, _json({"status": "not_found"}, 404)
        headers = request.httprequest.headers
        problem = channel._check_request_signature(
            headers.get("X-OMS-Timestamp"),
            headers.get("X-OMS-Signature"),
            request.httprequest.method,
            self._request_path(),
            body,
        )
        if problem:
            _logger.warning(
                "OMS API: %s for channel %s on %s %s from %s",
                "stale request" if problem == "stale_request" else "missing or wrong signature",
                code,
                request.httprequest.method,
                request.httprequest.path,
                request.httprequest.remote_addr,
            )
            message = (
                request.env._(
                    "X-OMS-Timestamp is more than five minutes away from the server's clock: sign the request again."
                )
                if problem == "stale_request"
                else request.env._(
                    "Missing or wrong signature: send X-OMS-Timestamp and X-OMS-Signature: v2=<hex HMAC-SHA256 of "
                    "timestamp, method, path and body> (API.md, Authentication)."
                )
            )
            return None, None, _json({"status": "unauthorized", "error": {"code": problem, "message": message}}, 401)
        env = self._integration_env(channel)
        return env["oms.channel"].browse(channel.id), env, None

    def _integration_env(self, channel):
        """The environment of the integration user, in the channel's company: a signed request acts as it."""
        api_user = request.env.ref("oms_ecommerce.user_oms_api").sudo()
        return request.env(
            user=api_user.id,
            su=False,
            context=dict(request.env.context, allowed_company_ids=[channel.company_id.id], tz="UTC"),
        )

    def _read_body(self):
        """The raw body, or an error response when it is larger than 1 MiB."""
        length = request.httprequest.content_length
        if length is not None and length > MAX_BODY:
            return None, _json({"status": "too_large"}, 413)
        body = request.httprequest.get_data(cache=True)
        if len(body) > MAX_BODY:
            return None, _json({"status": "too_large"}, 413)
        return body, None

    def _guard(self, handler, *args):
        """Run ``handler``; answer any unexpected failure as JSON instead of an HTML page."""
        try:
            return handler(*args)
        except CONCURRENCY_ERRORS:
            raise  # Odoo retries the whole request
        except Exception:
            _logger.exception("OMS API: unexpected error on %s", request.httprequest.path)
            request.env.cr.rollback()
            answer = {
                "status": "error",
                "error": {"code": "server_error", "message": "Unexpected server error; the request can be retried."},
            }
            intake = self._keep_after_failure()
            if intake:
                answer["intake"] = intake.id
            return _json(answer, 500)

    def _keep_after_failure(self):
        """The rollback of an unexpected failure took the stored body with it: store it again, in error,
        so that the order desk sees it and can retry it (nothing a channel sent is ever lost)."""
        kept = request.httprequest.environ.get(KEPT_BODY)
        if not kept:
            return None
        channel_id, body, source = kept
        try:
            channel = request.env(su=True)["oms.channel"].browse(channel_id)
            env = self._integration_env(channel)
            intake = env["oms.intake"]._store(env["oms.channel"].browse(channel_id), [body], source=source)
            intake._set_error(
                "mapping_error",
                request.env._(
                    "An unexpected server error interrupted the processing of this body; it is kept here. Retry it "
                    "once the cause is fixed (the server log has the details), or report it to your Odoo partner."
                ),
            )
            return intake
        except Exception:
            _logger.exception("OMS API: the body of %s could not be kept after a failure", request.httprequest.path)
            request.env.cr.rollback()
            return None

    # ------------------------------------------------------------------
    # Endpoints
    # ------------------------------------------------------------------
    def _method(self, *allowed):
        """None when the request's method is one of ``allowed``, else a JSON 405 naming them."""
        method = request.httprequest.method
        if method in allowed or (method == "HEAD" and "GET" in allowed):
            return None
        return _json(
            {
                "status": "method_not_allowed",
                "error": {
                    "code": "method_not_allowed",
                    "message": request.env._(
                        "%(method)s is not allowed here: use %(allowed)s.", method=method, allowed=", ".join(allowed)
                    ),
                },
            },
            405,
            headers=[("Allow", ", ".join(allowed))],
        )

    @_api_route(API_ROUTE)
    def post_order(self, code, **kwargs):
        return self._method("POST") or self._guard(self._post_orders, code, False)

    @_api_route(f"{API_ROUTE}/batch")
    def post_orders_batch(self, code, **kwargs):
        if request.httprequest.method in ("GET", "HEAD"):  # an order whose external id is "batch"
            return self._guard(self._get_order, code, "batch")
        return self._method("POST") or self._guard(self._post_orders, code, True)

    @_api_route(f"{API_ROUTE}/<string:external_id>", readonly=True)
    def get_order(self, code, external_id, **kwargs):
        return self._method("GET") or self._guard(self._get_order, code, external_id)

    @_api_route(f"{API_ROUTE}/<string:external_id>/cancel")
    def cancel_order(self, code, external_id, **kwargs):
        return self._method("POST") or self._guard(self._cancel_order, code, external_id)

    @_api_route(f"{API_ROUTE}/<string:external_id>/delivered")
    def deliver_order(self, code, external_id, **kwargs):
        return self._method("POST") or self._guard(self._deliver_order, code, external_id)

    @_api_route("/oms/v1/<path:subpath>", readonly=True)
    def not_found(self, subpath, **kwargs):
        """Any other path under /oms/v1/: JSON, as every answer of the API."""
        return _json({"status": "not_found"}, 404)

    # ------------------------------------------------------------------
    def _post_orders(self, code, batch):
        channel, env, body, error = self._authorize(code)
        if error:
            return error
        request.httprequest.environ[KEPT_BODY] = (channel.id, body, "batch" if batch else "api")
        Intake = env["oms.intake"]
        if not batch:
            status, result = Intake._receive(channel, [body], source="api")[0]
            return _json(result, status)
        try:
            data = json.loads(body.decode("utf-8"))
        except UnicodeDecodeError as exc:
            message = request.env._(
                "The body is not UTF-8 text (byte %(position)s): send the JSON in UTF-8.", position=exc.start
            )
            return self._invalid_batch(Intake, channel, body, "", message)
        except (ValueError, RecursionError) as exc:
            message = request.env._(
                "The body is not valid JSON: %(error)s", error=exc if isinstance(exc, ValueError) else "too deep"
            )
            return self._invalid_batch(Intake, channel, body, "", storable(str(message)))
        orders = data.get("orders") if isinstance(data, dict) else None
        if not isinstance(orders, list) or not orders:
            message = request.env._('The body must be {"orders": [ … ]} with at least one order.')
            return self._invalid_batch(Intake, channel, body, "orders", message)
        if len(orders) > MAX_BATCH:
            message = request.env._(
                "A batch holds at most %(max)s orders; this one has %(count)s: split it.",
                max=MAX_BATCH,
                count=len(orders),
            )
            return self._invalid_batch(Intake, channel, body, "orders", message)
        results = []
        for order, (status, result) in zip(orders, Intake._receive(channel, orders, source="batch"), strict=True):
            external_id = order.get("external_id") if isinstance(order, dict) else None
            if isinstance(external_id, str):
                external_id = clean_text(external_id.strip()) if clean_text(external_id) else None
            elif not isinstance(external_id, int) or isinstance(external_id, bool):
                external_id = None
            results.append({"external_id": external_id, "http_status": status, **result})
        counts = {}
        for result in results:
            counts[result["status"]] = counts.get(result["status"], 0) + 1
        return _json({"status": "processed", "counts": counts, "results": results}, 200)

    def _invalid_batch(self, Intake, channel, body, field, message):
        """Keep a batch that cannot be split into orders, in error for the order desk, and answer 400."""
        intake = Intake._store(channel, [body], source="batch")
        intake._set_error("invalid_payload", message, field)
        return _json(
            {"status": "invalid", "error": {"code": "invalid_payload", "field": field, "message": message}}, 400
        )

    def _find(self, env, channel, external_id):
        """The channel's order for ``external_id``, and its most recent intake."""
        if not _usable_id(external_id):
            return env["sale.order"], env["oms.intake"]
        order = env["sale.order"].search(
            [("oms_channel_id", "=", channel.id), ("oms_external_id", "=", external_id)], limit=1
        )
        intake = env["oms.intake"].search([("channel_id", "=", channel.id), ("external_id", "=", external_id)], limit=1)
        return order, intake

    def _get_order(self, code, external_id):
        channel, env, _body, error = self._authorize(code, read_body=False)
        if error:
            return error
        order, intake = self._find(env, channel, external_id)
        if order:
            return _json(order_status(order))
        if intake:
            received = intake.received_at.strftime("%Y-%m-%dT%H:%M:%SZ")
            return _json(
                {
                    "external_id": external_id,
                    "order": None,
                    "step": "received",
                    "steps": [{"step": "received", "at": received}],
                    "tracking": [],
                    "intake": {
                        "id": intake.id,
                        "state": intake.state,
                        "error_code": intake.error_code or None,
                        "error_message": intake.error_message or None,
                    },
                }
            )
        return _json({"status": "not_found"}, 404)

    def _cancel_order(self, code, external_id):
        channel, env, _body, error = self._authorize(code)
        if error:
            return error
        order, intake = self._find(env, channel, external_id)
        if order:
            try:
                with env.cr.savepoint():
                    order._oms_cancel_from_channel()
            except UserError as exc:
                return _json(
                    {
                        "status": "conflict",
                        "order": order.name,
                        "id": order.id,
                        "error": {
                            "code": "already_shipped" if order._oms_is_shipped() else "cannot_cancel",
                            "message": exc.args[0],
                        },
                    },
                    409,
                )
            return _json({"status": "cancelled", "order": order.name, "id": order.id})
        if intake:
            # Not created yet (intake in error): remember it, so a retry creates it cancelled.
            pending = env["oms.intake"].search(
                [
                    ("channel_id", "=", channel.id),
                    ("external_id", "=", external_id),
                    ("state", "in", ("error", "pending")),
                ]
            )
            pending.write({"cancel_requested": True})
            pending._message_log(body=request.env._("The channel cancelled this order."))
            return _json({"status": "cancelled", "order": None, "id": None, "intake": intake.id})
        return _json({"status": "not_found"}, 404)

    def _deliver_order(self, code, external_id):
        channel, env, body, error = self._authorize(code)
        if error:
            return error
        at = None
        try:
            data = json.loads(body) if body.strip() else {}
            if not isinstance(data, dict):
                raise ValueError
            if data.get("at"):
                if not isinstance(data["at"], str):
                    raise ValueError
                at = parse_datetime(data["at"])
        except (ValueError, RecursionError):
            message = request.env._(
                'The body must be {} or {"at": "<ISO 8601 date-time>"}, e.g. {"at": "2026-11-29T15:30:00Z"}.'
            )
            return _json(
                {"status": "invalid", "error": {"code": "invalid_payload", "field": "at", "message": message}}, 400
            )
        order, _intake = self._find(env, channel, external_id)
        if not order:
            return _json({"status": "not_found"}, 404)
        try:
            with env.cr.savepoint():
                order.action_oms_mark_delivered(at=at)
        except OmsDeliveredAtError as exc:
            return _json(
                {"status": "invalid", "error": {"code": "invalid_payload", "field": "at", "message": exc.args[0]}},
                400,
            )
        except UserError as exc:
            return _json(
                {
                    "status": "conflict",
                    "order": order.name,
                    "id": order.id,
                    "error": {"code": "not_shipped", "message": exc.args[0]},
                },
                409,
            )
        return _json({"status": "delivered", "order": order.name, "id": order.id, "step": order.oms_step})
