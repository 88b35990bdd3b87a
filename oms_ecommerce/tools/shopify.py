"""Shopify's REST Admin ``Order`` resource (the body of its ``orders/*`` webhooks) as an order of API.md.

https://shopify.dev/docs/api/admin-rest/latest/resources/order and .../webhook#event-topics
"""

from decimal import Decimal

from .webhooks import WebhookInvalid, address, decimal, discount_percent, identifier, iso, number, text, utc

COD_GATEWAYS = ("cash on delivery", "cod")
PAYMENT_STATUSES = {
    "paid": "paid",
    "pending": "pending",
    "authorized": "pending",
    "partially_paid": "pending",
    "partially_refunded": "paid",
    "refunded": "paid",
}


def _object(body):
    if not isinstance(body, dict):
        raise WebhookInvalid("", "A Shopify webhook body is a JSON object (the order).")
    return body


def external_id(body, topic):
    body = _object(body)
    if topic == "refunds/create":
        return identifier(body.get("order_id"), "order_id")
    return identifier(body.get("id"), "id")


def version(body, topic):
    """When the order was last updated on Shopify (``updated_at``); a refund has no order version."""
    if topic == "refunds/create":
        return None
    return utc(_object(body).get("updated_at"), "updated_at") if body.get("updated_at") else None


def is_cancelled(body, topic):
    """Only the signed body says an order is cancelled: ``cancelled_at``."""
    return topic != "refunds/create" and bool(_object(body).get("cancelled_at"))


def _address(values):
    if not isinstance(values, dict):
        return None
    name = text(values.get("name")) or " ".join(
        part for part in (text(values.get("first_name")), text(values.get("last_name"))) if part
    )
    return address(
        {
            "name": name,
            "company": text(values.get("company")),
            "street": text(values.get("address1")),
            "street2": text(values.get("address2")),
            "city": text(values.get("city")),
            "zip": text(values.get("zip")),
            "state_code": text(values.get("province_code")),
            "country_code": text(values.get("country_code")),
            "phone": text(values.get("phone")),
        }
    )


def payment(body):
    gateways = [name for name in body.get("payment_gateway_names") or [] if isinstance(name, str)]
    if isinstance(body.get("gateway"), str):
        gateways.append(body["gateway"])
    method = ", ".join(dict.fromkeys(gateways)) or None
    if any(cod in name.lower() for name in gateways for cod in COD_GATEWAYS) and body.get("financial_status") != "paid":
        status = "cod"
    else:
        status = PAYMENT_STATUSES.get(body.get("financial_status"))
    return {key: value for key, value in {"status": status, "method": method}.items() if value}


# Longer than ~60 lines on purpose: it follows the platform's order object field by field, in its order, so that
# it can be read against the published documentation.
def to_order(body, known_methods=()):
    """The API.md order of a Shopify order body.

    :param known_methods: the channel's mapped shipping methods (lower case): a shipping line's ``code`` is
        used when mapped, else its ``title``
    :raises WebhookInvalid: naming the field
    """
    body = _object(body)
    customer = body.get("customer") if isinstance(body.get("customer"), dict) else {}
    email = text(body.get("email")) or text(body.get("contact_email")) or text(customer.get("email"))
    if not email:
        raise WebhookInvalid("email", "The order has no email, contact_email or customer.email.")
    shipping_address = _address(body.get("shipping_address")) or _address(body.get("billing_address"))
    if not shipping_address:
        raise WebhookInvalid("shipping_address", "The order has no shipping_address (nor billing_address).")
    lines = []
    items = body.get("line_items")
    if not isinstance(items, list) or not items:
        raise WebhookInvalid("line_items", "The order has no line_items.")
    for index, item in enumerate(items):
        where = f"line_items[{index}]"
        if not isinstance(item, dict):
            raise WebhookInvalid(where, f"{where} must be an object.")
        name = text(item.get("name")) or text(item.get("title")) or ""
        sku = text(item.get("sku"))
        if not sku:
            raise WebhookInvalid(
                f"{where}.sku",
                f"{where} (“{name}”) has no SKU: give the product a SKU in Shopify, or correct the payload, "
                "then retry.",
            )
        if item.get("current_quantity") == 0 and isinstance(item.get("quantity"), int):
            continue  # removed by an edit of the order (or refunded before it shipped): no longer ordered
        # ``quantity`` stays what was first bought; ``current_quantity`` is it after the order's edits.
        key = "current_quantity" if item.get("current_quantity") is not None else "quantity"
        quantity = item.get(key)
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity <= 0:
            raise WebhookInvalid(f"{where}.{key}", f"{where}.{key} must be a whole number greater than 0.")
        price = decimal(item.get("price"), f"{where}.price")
        allocations = item.get("discount_allocations")
        if isinstance(allocations, list) and allocations:
            discount = sum(
                (decimal(a.get("amount"), f"{where}.discount_allocations") for a in allocations if isinstance(a, dict)),
                Decimal(0),
            )
        else:
            discount = decimal(item.get("total_discount"), f"{where}.total_discount")
        lines.append(
            {
                "sku": sku,
                "quantity": quantity,
                "unit_price": number(price),
                "discount": discount_percent(price * quantity, discount),
                "name": name or None,
            }
        )
    if not lines:
        raise WebhookInvalid("line_items", "Every line of the order was removed (current_quantity 0).")
    order = {
        "external_id": identifier(body.get("id"), "id"),
        "placed_at": iso(utc(body.get("created_at"), "created_at")),
        "currency": text(body.get("currency")),
        "customer": {
            "email": email,
            "name": " ".join(p for p in (text(customer.get("first_name")), text(customer.get("last_name"))) if p)
            or shipping_address["name"],
            "phone": text(customer.get("phone")) or text(body.get("phone")),
        },
        "shipping_address": shipping_address,
        "billing_address": _address(body.get("billing_address")),
        "lines": [{key: value for key, value in line.items() if value is not None} for line in lines],
        "payment": payment(body),
        "taxes_included": bool(body.get("taxes_included")),
        "total": number(decimal(body.get("total_price"), "total_price")),
        "note": note(body),
    }
    shipping_lines = [line for line in body.get("shipping_lines") or [] if isinstance(line, dict)]
    if shipping_lines:
        first = shipping_lines[0]
        candidates = [text(first.get("code")), text(first.get("title"))]
        method = next((c for c in candidates if c and c.lower() in known_methods), None) or next(
            (c for c in candidates if c), None
        )
        price = sum(
            (
                decimal(line.get("discounted_price", line.get("price")), f"shipping_lines[{index}].price")
                for index, line in enumerate(shipping_lines)
            ),
            Decimal(0),
        )
        order["shipping"] = {key: value for key, value in {"method": method, "price": number(price)}.items() if value}
    return {key: value for key, value in order.items() if value is not None}


def note(body):
    """``note`` and the ``note_attributes`` (name: value), one per line."""
    parts = [text(body.get("note"))]
    for attribute in body.get("note_attributes") or []:
        if isinstance(attribute, dict) and text(attribute.get("name")):
            parts.append(f"{text(attribute.get('name'))}: {text(attribute.get('value')) or ''}")
    return "\n".join(part for part in parts if part) or None


def reference(body):
    """The order number the shop and the customer see (``name``, e.g. #1001)."""
    return text(body.get("name")) if isinstance(body, dict) else None


def _money(value, field):
    """A MoneyBag's shop amount (``{"shop_money": {"amount": "4.99"}}``) as a Decimal."""
    shop = value.get("shop_money") if isinstance(value, dict) else None
    return decimal(shop.get("amount") if isinstance(shop, dict) else None, f"{field}.shop_money.amount")


def _refund_items(body):
    """A refund's ``refund_line_items``: [{"sku", "name", "quantity", "subtotal", "tax"}]."""
    items = []
    for index, item in enumerate(body.get("refund_line_items") or []):
        if not isinstance(item, dict):
            continue
        where = f"refund_line_items[{index}]"
        line = item.get("line_item") if isinstance(item.get("line_item"), dict) else {}
        quantity = item.get("quantity")
        if isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 0:
            raise WebhookInvalid(f"{where}.quantity", f"{where}.quantity must be a whole number, 0 or more.")
        items.append(
            {
                "sku": text(line.get("sku")),
                "name": text(line.get("name")) or text(line.get("title")) or "?",
                "quantity": quantity,
                "subtotal": decimal(item.get("subtotal"), f"{where}.subtotal"),
                "tax": decimal(item.get("total_tax"), f"{where}.total_tax"),
            }
        )
    return items


def refund(body):
    """A ``refunds/create`` body (the REST ``Refund`` resource) as what the order records and credits.

    :return: {"id", "note", "transactions": [(amount, currency, gateway)], "amount": the refunded money,
        "items": [{"sku", "name", "quantity", "subtotal", "tax"}], "shipping", "shipping_tax"}. Amounts are
        Decimals in the shop's currency, in the order's own tax mode (``taxes_included``) as Shopify writes them.
        The shipping refunded is ``refund_shipping_lines`` (API 2024-10 on), else the ``order_adjustments`` of
        kind ``shipping_refund`` (negative amounts).
    """
    body = _object(body)
    transactions = []
    for index, transaction in enumerate(body.get("transactions") or []):
        if (
            isinstance(transaction, dict)
            and transaction.get("status") in (None, "success")
            and transaction.get("kind") in (None, "refund")
        ):
            transactions.append(
                (
                    decimal(transaction.get("amount"), f"transactions[{index}].amount"),
                    text(transaction.get("currency")) or "",
                    text(transaction.get("gateway")) or "",
                )
            )
    items = _refund_items(body)
    shipping = shipping_tax = Decimal(0)
    shipping_lines = [line for line in body.get("refund_shipping_lines") or [] if isinstance(line, dict)]
    for index, line in enumerate(shipping_lines):
        shipping += _money(line.get("subtotal_amount_set"), f"refund_shipping_lines[{index}].subtotal_amount_set")
        shipping_tax += _money(line.get("tax_amount_set"), f"refund_shipping_lines[{index}].tax_amount_set")
    if not shipping_lines:
        for index, adjustment in enumerate(body.get("order_adjustments") or []):
            if isinstance(adjustment, dict) and adjustment.get("kind") == "shipping_refund":
                shipping -= decimal(adjustment.get("amount"), f"order_adjustments[{index}].amount")
                shipping_tax -= decimal(adjustment.get("tax_amount"), f"order_adjustments[{index}].tax_amount")
    return {
        "id": identifier(body.get("id"), "id"),
        "note": text(body.get("note")),
        "transactions": transactions,
        "amount": sum((amount for amount, _currency, _gateway in transactions), Decimal(0)),
        "items": items,
        "shipping": shipping,
        "shipping_tax": shipping_tax,
    }
