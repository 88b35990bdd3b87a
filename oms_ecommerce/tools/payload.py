"""The channel API's order payload (API.md): what PostgreSQL text can hold, dates, and the schema check.

Plain functions (no models): the intake (``models/oms_intake.py``), the controllers and the platform poll use
them. Every error names the field of the payload (its path) and how to fix it."""

import math
import re
from datetime import UTC, datetime

from odoo.tools import email_normalize

PAYMENT_STATUSES = ("paid", "pending", "cod")


class IntakeInvalid(Exception):
    """The payload breaks the schema of API.md: ``field`` says where."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = storable(field)
        self.message = storable(message)


def storable(value):
    """``value`` with what PostgreSQL text cannot hold (NUL, lone surrogates) written as escapes."""
    return value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")


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
    """Check an order object against the schema of API.md, one section after the other.

    :return: the order's external id (trimmed)
    :raises IntakeInvalid: with the path of the first wrong field
    """
    if not isinstance(data, dict):
        raise IntakeInvalid("", "An order must be a JSON object.")
    if _depth(data, MAX_DEPTH) > MAX_DEPTH:
        raise IntakeInvalid("", f"The order is nested deeper than {MAX_DEPTH} levels: send an order of API.md.")
    external_id = validate_external_id(data.get("external_id"))
    _validate_header(data)
    _validate_customer(data)
    for key in ("shipping_address", "billing_address"):
        _validate_address(data, key, required=key == "shipping_address")
    _validate_lines(data)
    _validate_shipping(data)
    _validate_payment(data)
    _validate_totals(data)
    for key in ("note", "gift_message"):
        _text(data, key, key)
    return external_id


def _validate_header(data):
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


def _validate_customer(data):
    customer = _object(data, "customer", "customer", True, "customer is required (an object with an email).")
    email = _text(customer, "email", "customer.email", True, "customer.email is required.")
    if not email_normalize(email):
        raise IntakeInvalid("customer.email", "customer.email must be an email address.")
    for key in ("name", "phone"):
        _text(customer, key, f"customer.{key}")


def _validate_address(data, key, required):
    address = _object(data, key, key, required, f"{key} is required (an object with name, street, city, country_code).")
    if address is None:
        return
    for sub in address:
        _text(address, sub, f"{key}.{sub}")
    for sub in ("name", "street", "city", "country_code"):
        _text(address, sub, f"{key}.{sub}", required=True)


def _validate_lines(data):
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


def _validate_shipping(data):
    shipping = _object(data, "shipping", "shipping", message="shipping must be an object with method and price.")
    if shipping is not None:
        _text(shipping, "method", "shipping.method")
        _number(shipping, "price", "shipping.price", what="a number, 0 or more,")


def _validate_payment(data):
    payment = _object(data, "payment", "payment")
    if payment is None:
        return
    if payment.get("status") not in (None, *PAYMENT_STATUSES):
        raise IntakeInvalid("payment.status", "payment.status must be one of paid, pending, cod.")
    _text(payment, "method", "payment.method")
    _text(payment, "reference", "payment.reference")
    _number(payment, "amount", "payment.amount", what="an amount, 0 or more,")


def _validate_totals(data):
    if data.get("taxes_included") is not None and not isinstance(data["taxes_included"], bool):
        raise IntakeInvalid("taxes_included", "taxes_included must be true or false.")
    _number(data, "total", "total", what="an amount, 0 or more,")
