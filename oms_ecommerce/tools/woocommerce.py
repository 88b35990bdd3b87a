"""WooCommerce's REST API v3 order (the body of its ``order.*`` webhooks) as an order of API.md.

https://woocommerce.github.io/woocommerce-rest-api-docs/#order-properties and #webhooks
"""

from decimal import Decimal

from .webhooks import WebhookInvalid, address, decimal, discount_percent, identifier, iso, number, text, utc

PAID_STATUSES = ("processing", "completed")
PENDING_STATUSES = ("pending", "on-hold")


def _object(body):
    if not isinstance(body, dict):
        raise WebhookInvalid("", "A WooCommerce webhook body is a JSON object (the order).")
    return body


def external_id(body, topic):
    return identifier(_object(body).get("id"), "id")


def version(body, topic):
    """When the order was last modified (``date_modified_gmt``, UTC without suffix)."""
    value = _object(body).get("date_modified_gmt")
    return utc(value, "date_modified_gmt", naive_utc=True) if value else None


def delivery_key(body, topic):
    """WooCommerce sends no stable delivery id: a delivery is its topic, the order's id and its version."""
    body = _object(body)
    return f"{topic}:{identifier(body.get('id'), 'id')}:{text(body.get('date_modified_gmt')) or ''}"


def is_cancelled(body, topic):
    """Deleted, or cancelled or refunded as the signed body's ``status`` says (refunded: the caller cancels it
    only before it ships)."""
    return topic == "order.deleted" or _object(body).get("status") in ("cancelled", "refunded")


def is_deletion(body, topic):
    """``order.deleted`` sends only the order's id."""
    return topic == "order.deleted"


def _address(values, fallback_email=None):
    if not isinstance(values, dict):
        return None
    name = " ".join(part for part in (text(values.get("first_name")), text(values.get("last_name"))) if part)
    result = address(
        {
            "name": name or text(values.get("company")),
            "company": text(values.get("company")),
            "street": text(values.get("address_1")),
            "street2": text(values.get("address_2")),
            "city": text(values.get("city")),
            "zip": text(values.get("postcode")),
            "state_code": text(values.get("state")),
            "country_code": text(values.get("country")),
            "phone": text(values.get("phone")),
        }
    )
    return result if result.get("street") or result.get("country_code") else None


def payment(body):
    status = body.get("status")
    method = text(body.get("payment_method"))
    if method and method.lower() == "cod" and status not in ("completed",):
        paid = "cod"
    elif status in PAID_STATUSES and body.get("date_paid_gmt"):
        paid = "paid"
    elif status in PENDING_STATUSES or status in PAID_STATUSES:
        paid = "pending"
    else:
        paid = None
    values = {
        "status": paid,
        "method": text(body.get("payment_method_title")) or method,
        "reference": text(body.get("transaction_id")),
    }
    return {key: value for key, value in values.items() if value}


# Longer than ~60 lines on purpose: it follows the platform's order object field by field, in its order, so that
# it can be read against the published documentation.
def to_order(body, known_methods=()):
    """The API.md order of a WooCommerce order body.

    Line ``subtotal`` and ``total`` are without tax: when the shop's prices include tax
    (``prices_include_tax``), the line's taxes are added back so that the prices are the ones the customer saw.

    :raises WebhookInvalid: naming the field
    """
    body = _object(body)
    included = bool(body.get("prices_include_tax"))
    billing = body.get("billing") if isinstance(body.get("billing"), dict) else {}
    email = text(billing.get("email"))
    if not email:
        raise WebhookInvalid("billing.email", "The order has no billing.email.")
    billing_address = _address(billing)
    shipping_address = _address(body.get("shipping")) or billing_address
    if not shipping_address:
        raise WebhookInvalid("shipping", "The order has no shipping address (nor billing address).")
    items = body.get("line_items")
    if not isinstance(items, list) or not items:
        raise WebhookInvalid("line_items", "The order has no line_items.")
    lines = []
    for index, item in enumerate(items):
        where = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise WebhookInvalid(where, f"{where} must be an object.")
        name = text(item.get("name")) or ""
        sku = text(item.get("sku"))
        if not sku:
            raise WebhookInvalid(
                f"{where}.sku",
                f"{where} (“{name}”) has no SKU: give the product a SKU in WooCommerce, or correct the payload, "
                "then retry.",
            )
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise WebhookInvalid(f"{where}.quantity", f"{where}.quantity must be a whole number greater than 0.")
        subtotal = decimal(item.get("subtotal"), f"{where}.subtotal")
        total = decimal(item.get("total"), f"{where}.total")
        if included:
            subtotal += decimal(item.get("subtotal_tax"), f"{where}.subtotal_tax")
            total += decimal(item.get("total_tax"), f"{where}.total_tax")
        line = {
            "sku": sku,
            "quantity": quantity,
            "unit_price": number(subtotal / quantity),
            "discount": discount_percent(subtotal, subtotal - total),
        }
        if name:
            line["name"] = name
        lines.append(line)
    placed = body.get("date_created_gmt")
    order = {
        "external_id": identifier(body.get("id"), "id"),
        "placed_at": iso(utc(placed, "date_created_gmt", naive_utc=True)) if placed else None,
        "currency": text(body.get("currency")),
        "customer": {
            "email": email,
            "name": billing_address["name"] if billing_address else shipping_address["name"],
            "phone": text(billing.get("phone")),
        },
        "shipping_address": shipping_address,
        "billing_address": billing_address,
        "lines": lines,
        "payment": payment(body),
        "taxes_included": included,
        "total": number(decimal(body.get("total"), "total")),
        "note": text(body.get("customer_note")),
        # Not part of API.md (ignored by intake): the refunds made so far, recorded on an existing order.
        "refunds": refunds(body),
    }
    shipping_lines = [line for line in body.get("shipping_lines") or [] if isinstance(line, dict)]
    if shipping_lines:
        first = shipping_lines[0]
        candidates = [text(first.get("method_id")), text(first.get("method_title"))]
        method = next((c for c in candidates if c and c.lower() in known_methods), None) or next(
            (c for c in candidates if c), None
        )
        price = Decimal(0)
        for index, line in enumerate(shipping_lines):
            price += decimal(line.get("total"), f"shipping_lines[{index}].total")
            if included:
                price += decimal(line.get("total_tax"), f"shipping_lines[{index}].total_tax")
        order["shipping"] = {key: value for key, value in {"method": method, "price": number(price)}.items() if value}
    return {key: value for key, value in order.items() if value is not None}


def reference(body):
    """The order number the shop shows (``number``)."""
    return text(body.get("number")) if isinstance(body, dict) else None


def refunds(body):
    """The refunds an order body lists (``refunds``: ``[{"id", "reason", "total"}]``, totals negative).

    The order body says neither which lines nor how much shipping a refund covers (only the
    ``/orders/<id>/refunds`` resource does): each refund is its amount and reason.

    :return: [{"id", "note", "amount", "transactions", "items", "shipping", "shipping_tax"}] as
        ``shopify.refund`` returns, with no items and no shipping
    """
    result = []
    for index, entry in enumerate(_object(body).get("refunds") or []):
        if not isinstance(entry, dict):
            raise WebhookInvalid(f"refunds[{index}]", f"refunds[{index}] must be an object.")
        amount = abs(decimal(entry.get("total"), f"refunds[{index}].total"))
        result.append(
            {
                "id": identifier(entry.get("id"), f"refunds[{index}].id"),
                "note": text(entry.get("reason")),
                "amount": amount,
                "transactions": [(amount, text(body.get("currency")) or "", "")],
                "items": [],
                "shipping": Decimal(0),
                "shipping_tax": Decimal(0),
            }
        )
    return result
