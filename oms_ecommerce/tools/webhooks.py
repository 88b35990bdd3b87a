"""What Shopify and WooCommerce webhooks have in common: topics, signatures, money and times.

Both platforms sign a webhook with ``base64(HMAC-SHA256(secret, raw body))``: Shopify in
``X-Shopify-Hmac-Sha256``, WooCommerce in ``X-WC-Webhook-Signature``.
"""

import base64
import hmac
import json
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from hashlib import sha256

TOPICS = {
    "shopify": ("orders/create", "orders/updated", "orders/paid", "orders/cancelled", "refunds/create"),
    "woocommerce": ("order.created", "order.updated", "order.deleted", "order.restored"),
}
# Shopify keeps signing with the previous secret for up to an hour after it was rotated.
PREVIOUS_SECRET_GRACE = 3600


class WebhookInvalid(Exception):
    """A signed body that cannot be read as the platform's order: ``field`` says where."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def sign(secret, body):
    """The platforms' signature of ``body``: base64 of its HMAC-SHA256 with ``secret``."""
    if isinstance(body, str):
        body = body.encode()
    return base64.b64encode(hmac.new(secret.encode(), body, sha256).digest()).decode()


def check(secrets, signature, body):
    """Whether ``signature`` is ``body`` signed with one of ``secrets`` (constant time, every key tried)."""
    if not signature:
        return False
    given = signature.strip().encode("ascii", "replace")
    authentic = False
    for secret in secrets:
        if secret and hmac.compare_digest(sign(secret, body).encode(), given):
            authentic = True
    return authentic


def loads(text):
    """A webhook body: numbers with a fraction as Decimal (never through float), integers as Python's exact
    int (an id above 2^53 keeps every digit)."""
    return json.loads(text, parse_float=Decimal)


def decimal(value, field):
    """``value`` (a decimal string, an int or a Decimal) as a Decimal, or raise WebhookInvalid."""
    if value is None or value == "":
        return Decimal(0)
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise WebhookInvalid(field, f"{field} must be an amount (a decimal string or number).")
    try:
        amount = Decimal(value.strip() if isinstance(value, str) else value)
    except InvalidOperation:
        raise WebhookInvalid(field, f"{field} must be an amount, not {value!r}.") from None
    if not amount.is_finite():
        raise WebhookInvalid(field, f"{field} must be a finite amount.")
    return amount


def number(amount):
    """A Decimal as the JSON number an order of API.md holds."""
    return int(amount) if amount == amount.to_integral_value() else float(amount)


def identifier(value, field):
    """An id (int64 or string) as a string with every digit."""
    if isinstance(value, bool) or not isinstance(value, int | str) or str(value).strip() == "":
        raise WebhookInvalid(field, f"{field} is required (the platform's id).")
    return str(value).strip()


def utc(value, field, naive_utc=False):
    """An ISO 8601 time as a naive UTC datetime. ``naive_utc``: a time without offset is UTC (WooCommerce's
    ``*_gmt`` fields); otherwise an offset is required (Shopify)."""
    if not isinstance(value, str) or not value.strip():
        raise WebhookInvalid(field, f"{field} is required (an ISO 8601 date-time).")
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise WebhookInvalid(field, f"{field} must be an ISO 8601 date-time, not {value!r}.") from None
    if parsed.tzinfo is None:
        if not naive_utc:
            raise WebhookInvalid(field, f"{field} must carry its UTC offset, e.g. 2026-11-20T10:15:00-05:00.")
        return parsed
    return parsed.astimezone(UTC).replace(tzinfo=None)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def text(value):
    """A platform's text field as a str (None when empty or not text)."""
    if isinstance(value, int | Decimal) and not isinstance(value, bool):
        return str(value)
    return value.strip() or None if isinstance(value, str) else None


def address(values):
    """An API.md address from the platform's address fields (already renamed), without empty values."""
    return {key: value for key, value in values.items() if value}


def discount_percent(gross, discount):
    """The line discount as the percentage API.md takes."""
    if not gross or not discount:
        return 0
    return float(min(max(discount / gross * 100, Decimal(0)), Decimal(100)))
