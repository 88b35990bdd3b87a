"""Shopify's and WooCommerce's own webhooks: POST /oms/v1/<code>/webhooks.

A channel whose platform is Shopify or WooCommerce subscribes this URL to the platform's order topics. The
body is checked against the platform's signature before anything is read, stored as it came (once per
delivery and per event), then mapped and applied in the same request, each body inside its own savepoint: a
body that cannot be mapped is kept in error for the order desk and still answered 200, so that the platform
does not retry (and eventually disable) the webhook.
"""

import logging
import re

from odoo.http import request

from ..tools import webhooks, woocommerce
from .channel_api import OmsChannelApi, _api_route, _json, _usable_id

_logger = logging.getLogger(__name__)

WEBHOOK_ROUTE = "/oms/v1/<string:code>/webhooks"
# The request WooCommerce sends once when a webhook is saved: a form body, unsigned.
WOOCOMMERCE_PING = re.compile(rb"webhook_id=\d+")
HEADERS = {
    "shopify": {"signature": "X-Shopify-Hmac-Sha256", "topic": "X-Shopify-Topic", "prefix": "x-shopify-"},
    "woocommerce": {"signature": "X-WC-Webhook-Signature", "topic": "X-WC-Webhook-Topic", "prefix": "x-wc-webhook-"},
}


class OmsPlatformWebhooks(OmsChannelApi):
    @_api_route(WEBHOOK_ROUTE)
    def platform_webhook(self, code, **kwargs):
        return self._method("POST") or self._guard(self._platform_webhook, code)

    def _platform_webhook(self, code):
        channel = (
            request.env(su=True)["oms.channel"].search_fetch(
                [("code", "=", code), ("active", "=", True), ("platform", "in", list(HEADERS))], limit=1
            )
            if _usable_id(code)
            else None
        )
        if not channel or self._sender_platform() not in (None, channel.platform):
            return _json({"status": "not_found"}, 404)  # no such channel, or the other platform's webhook
        body, error = self._read_body()
        if error:
            return error
        headers = request.httprequest.headers
        names = HEADERS[channel.platform]
        signature = headers.get(names["signature"])
        if channel.platform == "woocommerce" and not signature and self._is_woocommerce_ping(body):
            return _json({"status": "ok"})
        if not webhooks.check(channel._webhook_secrets(), signature, body):
            _logger.warning(
                "OMS webhooks: %s signature for channel %s (%s) from %s",
                "wrong" if signature else "missing",
                code,
                channel.platform,
                request.httprequest.remote_addr,
            )
            message = request.env._(
                "Missing or wrong signature: %(header)s must be the base64 HMAC-SHA256 of the body with the "
                "channel's secret.",
                header=names["signature"],
            )
            return _json({"status": "unauthorized", "error": {"code": "bad_signature", "message": message}}, 401)
        topic = (headers.get(names["topic"]) or "").strip()
        if topic not in webhooks.TOPICS[channel.platform]:
            _logger.info("OMS webhooks: topic %r of channel %s ignored", topic, code)
            return _json({"status": "ignored", "topic": topic})
        delivery_id, event_id = self._delivery_ids(channel, topic, body)
        env = self._integration_env(channel)
        intake = env["oms.intake"]._receive_webhook(
            env["oms.channel"].browse(channel.id), body, topic, delivery_id, event_id
        )
        if not intake:
            return _json({"status": "duplicate"})
        return _json({"status": "received", "intake": intake.id, "state": intake.state})

    def _sender_platform(self):
        """The platform whose headers the request carries (None: neither, such as WooCommerce's ping)."""
        names = {name.lower() for name, _value in request.httprequest.headers.items()}
        found = [
            platform
            for platform, headers in HEADERS.items()
            if any(name.startswith(headers["prefix"]) for name in names)
        ]
        return found[0] if len(found) == 1 else None

    def _is_woocommerce_ping(self, body):
        """``webhook_id=<n>``, form-encoded (Odoo has then already parsed it out of the body)."""
        if WOOCOMMERCE_PING.fullmatch(body.strip()):
            return True
        form = request.httprequest.form
        return not body and list(form.keys()) == ["webhook_id"] and form["webhook_id"].isdigit()

    def _delivery_ids(self, channel, topic, body):
        """(delivery id, event id) of a webhook: what makes a repeated delivery the same."""
        headers = request.httprequest.headers
        if channel.platform == "shopify":
            return headers.get("X-Shopify-Webhook-Id"), headers.get("X-Shopify-Event-Id")
        try:
            return woocommerce.delivery_key(webhooks.loads(body), topic), None
        except (ValueError, RecursionError, webhooks.WebhookInvalid):
            return None, None  # not an order: stored, and in error on the desk's list
