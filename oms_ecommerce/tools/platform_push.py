"""What Odoo pushes back to the platforms: shipments with tracking, cancellations, stock levels, refunds.

Pure functions over the clients of ``platform_client`` (no ORM): each takes the figures to send and
returns what the platform answered, raising :class:`PushError` for what a person has to fix (GraphQL
``userErrors``, a SKU or an order the platform does not know) and letting the client's retryable
``PlatformError`` (429, 5xx, timeouts, Shopify's throttle) through for the job queue to retry.

Shopify Admin GraphQL 2025-10: https://shopify.dev/docs/api/admin-graphql (``order.fulfillmentOrders``,
``fulfillmentCreate``, ``orderCancel``, ``productVariants``, ``inventorySetQuantities``, ``order.lineItems``,
``order.suggestedRefund``, ``refundCreate``).
WooCommerce REST v3: https://woocommerce.github.io/woocommerce-rest-api-docs/ (order notes, orders, order
refunds, products and variations batch).
"""
# Longer than ~400 lines on purpose: one small function per platform call (Shopify GraphQL, WooCommerce REST),
# each next to the documentation it follows; split by platform when a third one comes.

import re
from decimal import Decimal

from .platform_client import PlatformError

SHOPIFY_BATCH = 250  # quantities per inventorySetQuantities, variants per productVariants query
WOO_BATCH = 100  # items per products/batch (WooCommerce's limit)
OPEN_FULFILLMENT_ORDER = ("OPEN", "IN_PROGRESS", "SCHEDULED")

Q_FULFILLMENT_ORDERS = """
query OmsFulfillmentOrders($id: ID!) {
  order(id: $id) {
    id
    fulfillmentOrders(first: 20) {
      nodes { id status lineItems(first: 100) { nodes { id remainingQuantity lineItem { sku } } } }
    }
  }
}"""

M_FULFILLMENT_CREATE = """
mutation OmsFulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) {
    fulfillment { id status }
    userErrors { field message }
  }
}"""

M_ORDER_CANCEL = """
mutation OmsOrderCancel($orderId: ID!, $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!,
                        $reason: OrderCancelReason!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, refundMethod: $refundMethod, restock: $restock, reason: $reason,
              notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}"""

Q_REFUND_ORDER = """
query OmsRefundOrder($id: ID!) {
  order(id: $id) {
    id
    refunds(first: 100) { id note }
    lineItems(first: 250) { nodes { id sku refundableQuantity } }
  }
}"""

Q_SUGGESTED_REFUND = """
query OmsSuggestedRefund($id: ID!, $lines: [RefundLineItemInput!]) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $lines) {
      suggestedTransactions {
        gateway
        parentTransaction { id }
        maximumRefundableSet { shopMoney { amount } }
      }
    }
  }
}"""

M_REFUND_CREATE = """
mutation OmsRefundCreate($input: RefundInput!) {
  refundCreate(input: $input) {
    refund { id }
    userErrors { field message }
  }
}"""

Q_VARIANTS_BY_SKU = """
query OmsVariantsBySku($query: String!) {
  productVariants(first: 250, query: $query) { nodes { sku inventoryItem { id } } }
}"""

M_INVENTORY_SET = """
mutation OmsInventorySet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { reason }
    userErrors { field message }
  }
}"""


class PushError(PlatformError):
    """The platform refused what was pushed for a reason a person must fix (not retried)."""


def shopify_gid(kind, platform_id):
    platform_id = str(platform_id or "").strip()
    return platform_id if platform_id.startswith("gid://") else f"gid://shopify/{kind}/{platform_id}"


def holds_marker(text, marker):
    """Whether ``text`` names ``marker`` (a credit note's number) as a whole word: RINV/2026/00001 is not in
    RINV/2026/000012."""
    return bool(marker) and re.search(rf"(?<![\w/]){re.escape(marker)}(?![\w/])", text or "") is not None


def _allocate(lines, quantities):
    """Spread ``quantities`` ({sku: quantity}) over the platform's ``lines`` [(line id, sku, quantity left)].

    :return: ([(line id, sku, quantity)], {sku: quantity that found no line})
    """
    todo = dict(quantities)
    taken = []
    for line_id, sku, left in lines:
        take = min(left, todo.get(sku, 0))
        if take > 0:
            taken.append((line_id, sku, take))
            todo[sku] -= take
    return taken, {sku: qty for sku, qty in todo.items() if qty > 0}


def _user_errors(errors, what):
    errors = [e for e in errors or [] if e]
    if errors:
        text = "; ".join(
            (f"{'.'.join(map(str, e.get('field') or []))}: " if e.get("field") else "") + str(e.get("message"))
            for e in errors
        )
        raise PushError(f"Shopify refused {what}: {text}")


# ------------------------------------------------------------------ Shopify


def shopify_fulfill(client, order_id, quantities, tracking, notify_customer):
    """Fulfil exactly ``quantities`` ({sku: quantity}) of a Shopify order with its tracking.

    :param tracking: {"company": str, "numbers": [str], "urls": [str]}
    :return: ("created", fulfillment id) or ("already", None) when the order's fulfillment orders no longer
        have any of these items to fulfil (a rerun after the first call went through)
    """
    data = client.graphql(Q_FULFILLMENT_ORDERS, {"id": shopify_gid("Order", order_id)})
    order = data.get("order")
    if not order:
        raise PushError(f"Shopify has no order {order_id}: check that it was not deleted on Shopify.")
    open_lines = []  # (fulfillment order id, line id, sku, remaining)
    for fo in (order.get("fulfillmentOrders") or {}).get("nodes") or []:
        if fo.get("status") not in OPEN_FULFILLMENT_ORDER:
            continue
        for line in (fo.get("lineItems") or {}).get("nodes") or []:
            sku = ((line.get("lineItem") or {}).get("sku") or "").strip()
            if line.get("remainingQuantity", 0) > 0:
                open_lines.append((fo["id"], line["id"], sku, int(line["remainingQuantity"])))
    remaining = {}
    for __, __, sku, qty in open_lines:
        remaining[sku] = remaining.get(sku, 0) + qty
    if not any(remaining.get(sku) for sku in quantities):
        return "already", None
    short = {sku: qty for sku, qty in quantities.items() if remaining.get(sku, 0) < qty}
    if short:
        raise PushError(
            "Shopify has fewer items left to fulfil than this delivery shipped: "
            + ", ".join(f"{sku} shipped {qty}, open {remaining.get(sku, 0)}" for sku, qty in sorted(short.items()))
            + ". Check the order's fulfillments on Shopify (a SKU that differs from Odoo's, or a shipment "
            "fulfilled by hand)."
        )
    by_fo = {}
    todo = dict(quantities)
    for fo_id, line_id, sku, qty in open_lines:
        take = min(qty, todo.get(sku, 0))
        if take > 0:
            by_fo.setdefault(fo_id, []).append({"id": line_id, "quantity": take})
            todo[sku] -= take
    fulfillment = {
        "lineItemsByFulfillmentOrder": [
            {"fulfillmentOrderId": fo_id, "fulfillmentOrderLineItems": lines} for fo_id, lines in by_fo.items()
        ],
        "notifyCustomer": bool(notify_customer),
    }
    if tracking.get("numbers") or tracking.get("company"):
        fulfillment["trackingInfo"] = tracking
    result = (client.graphql(M_FULFILLMENT_CREATE, {"fulfillment": fulfillment}) or {}).get("fulfillmentCreate") or {}
    _user_errors(result.get("userErrors"), "the fulfillment")
    created = result.get("fulfillment") or {}
    if not created.get("id"):
        raise PushError("Shopify answered the fulfillment without a fulfillment id.")
    return "created", created["id"]


def shopify_cancel(client, order_id, restock, refund, staff_note):
    """Cancel a Shopify order. :return: "cancelled" or "already" """
    result = (
        client.graphql(
            M_ORDER_CANCEL,
            {
                "orderId": shopify_gid("Order", order_id),
                "refundMethod": {"originalPaymentMethodsRefund": bool(refund)},
                "restock": bool(restock),
                "reason": "OTHER",
                "notifyCustomer": False,
                "staffNote": staff_note,
            },
        )
        or {}
    ).get("orderCancel") or {}
    errors = result.get("orderCancelUserErrors") or []
    if errors and all(
        (e.get("code") or "").upper() == "ORDER_ALREADY_CANCELLED" or "already" in (e.get("message") or "").lower()
        for e in errors
    ):
        return "already"
    _user_errors(errors, "the cancellation")
    return "cancelled"


def shopify_refund(client, order_id, quantities, amount, note, marker, notify):
    """Refund ``quantities`` ({sku: quantity}) of a Shopify order, and ``amount`` (a decimal string in the order's
    currency) on the payments Shopify suggests for them (``suggestedRefund``), once: a refund whose note names
    ``marker`` counts as done (a rerun after the first call went through), and so does an order whose lines
    have none of these items left to refund. The items are not restocked on Shopify (``NO_RESTOCK``): the
    return was received in Odoo's warehouse, whose stock levels Odoo pushes.

    :return: (state, refund id, money refunded on Shopify's payments as a Decimal): state "created", or
        "already" (refund id None when the items were refunded by other means); money 0 when Shopify holds no
        payment to refund (the money is refunded outside Shopify)
    """
    order_gid = shopify_gid("Order", order_id)
    order = (client.graphql(Q_REFUND_ORDER, {"id": order_gid}) or {}).get("order")
    if not order:
        raise PushError(f"Shopify has no order {order_id}: check that it was not deleted on Shopify.")
    for refund in order.get("refunds") or []:
        if holds_marker(refund.get("note"), marker):
            return "already", refund.get("id"), None
    open_lines = [
        (line["id"], (line.get("sku") or "").strip(), int(line.get("refundableQuantity") or 0))
        for line in (order.get("lineItems") or {}).get("nodes") or []
    ]
    left = {}
    for __, sku, qty in open_lines:
        left[sku] = left.get(sku, 0) + qty
    if quantities and not any(left.get(sku) for sku in quantities):
        return "already", None, None
    taken, short = _allocate(open_lines, quantities)
    if short:
        raise PushError(
            "Shopify has fewer items left to refund than this credit note credits: "
            + ", ".join(f"{sku} credited {quantities[sku]}, refundable {left.get(sku, 0)}" for sku in sorted(short))
            + ". Check the order's refunds on Shopify (a SKU that differs from Odoo's, or items refunded by hand)."
        )
    lines = [{"lineItemId": line_id, "quantity": qty, "restockType": "NO_RESTOCK"} for line_id, __, qty in taken]
    transactions = _shopify_refund_transactions(client, order_gid, lines, Decimal(amount))
    refund_input = {"orderId": order_gid, "note": note, "notify": bool(notify), "refundLineItems": lines}
    if transactions:
        refund_input["transactions"] = transactions
    result = (client.graphql(M_REFUND_CREATE, {"input": refund_input}) or {}).get("refundCreate") or {}
    _user_errors(result.get("userErrors"), "the refund")
    created = result.get("refund") or {}
    if not created.get("id"):
        raise PushError("Shopify answered the refund without a refund id.")
    return "created", created["id"], sum((Decimal(t["amount"]) for t in transactions), Decimal(0))


def _shopify_refund_transactions(client, order_gid, lines, money):
    """The refund transactions of ``money`` (a Decimal) on the payments Shopify suggests for refunding ``lines``
    (``suggestedRefund``): [] when nothing is refunded or Shopify holds no payment to refund."""
    transactions = []
    if money <= 0:
        return transactions
    data = client.graphql(Q_SUGGESTED_REFUND, {"id": order_gid, "lines": lines}) or {}
    suggested = ((data.get("order") or {}).get("suggestedRefund") or {}).get("suggestedTransactions") or []
    todo = money
    for suggestion in suggested:
        parent = (suggestion.get("parentTransaction") or {}).get("id")
        refundable = ((suggestion.get("maximumRefundableSet") or {}).get("shopMoney") or {}).get("amount")
        if not parent or todo <= 0:
            continue
        take = min(todo, Decimal(str(refundable))) if refundable is not None else todo
        if take <= 0:
            continue
        transactions.append(
            {
                "orderId": order_gid,
                "parentId": parent,
                "gateway": suggestion.get("gateway") or "",
                "kind": "REFUND",
                "amount": str(take.quantize(money)),
            }
        )
        todo -= take
    if transactions and todo > 0:
        raise PushError(
            f"Shopify can refund at most {money - todo} on this order's payments, and the credit note is "
            f"{money}: refund the difference outside Shopify, or check the order's payments and refunds on "
            "Shopify, then retry."
        )
    return transactions


def shopify_inventory_items(client, skus):
    """{sku: inventory item gid} of the variants with these SKUs (absent: Shopify does not know it)."""
    found = {}
    skus = sorted(set(skus))
    for start in range(0, len(skus), 50):  # a search query stays short
        chunk = skus[start : start + 50]
        query = " OR ".join(f'sku:"{sku}"' if " " in sku else f"sku:{sku}" for sku in chunk)
        nodes = ((client.graphql(Q_VARIANTS_BY_SKU, {"query": query}) or {}).get("productVariants") or {}).get(
            "nodes"
        ) or []
        for node in nodes:
            sku = (node.get("sku") or "").strip()
            if sku in chunk and (node.get("inventoryItem") or {}).get("id"):
                found.setdefault(sku, node["inventoryItem"]["id"])
    return found


def shopify_set_stock(client, location_id, quantities):
    """Set the available quantity of inventory items at a location. :param quantities: {item gid: quantity}"""
    items = sorted(quantities.items())
    for start in range(0, len(items), SHOPIFY_BATCH):
        chunk = items[start : start + SHOPIFY_BATCH]
        payload = {
            "name": "available",
            "reason": "correction",
            "ignoreCompareQuantity": True,
            "quantities": [
                {"inventoryItemId": item, "locationId": shopify_gid("Location", location_id), "quantity": int(qty)}
                for item, qty in chunk
            ],
        }
        result = (client.graphql(M_INVENTORY_SET, {"input": payload}) or {}).get("inventorySetQuantities") or {}
        _user_errors(result.get("userErrors"), "the stock levels")
    return len(items)


# -------------------------------------------------------------- WooCommerce


def woo_note(client, order_id, note, customer_note, marker):
    """Add an order note once: a note that already holds ``marker`` counts as done. :return: (state, note id)"""
    notes, __ = client.request("GET", f"orders/{order_id}/notes")
    for existing in notes or []:
        if marker in (existing.get("note") or ""):
            return "already", existing.get("id")
    body, __ = client.request(
        "POST", f"orders/{order_id}/notes", json={"note": note, "customer_note": bool(customer_note)}
    )
    return "created", (body or {}).get("id")


def woo_set_status(client, order_id, status):
    body, __ = client.request("PUT", f"orders/{order_id}", json={"status": status})
    return (body or {}).get("status")


def woo_refund(client, order_id, items, amount, reason, marker, api_refund):
    """Refund the lines ``items`` ({sku: (quantity, total without tax)}) of a WooCommerce order for ``amount`` (a
    decimal string, which WooCommerce takes over the lines' totals), once: a refund whose reason names
    ``marker`` counts as done. WooCommerce restocks nothing (``api_restock`` false: Odoo pushes stock levels);
    with ``api_refund`` false it records the refund and the merchant refunds the money on the payment gateway.

    :return: (state, refund id, money refunded through WooCommerce's gateway as a Decimal)
    """
    order, __ = client.request("GET", f"orders/{order_id}")
    order = order or {}
    for refund in order.get("refunds") or []:
        if holds_marker(refund.get("reason"), marker):
            return "already", str(refund.get("id")), None
    order_lines = [
        (line["id"], (line.get("sku") or "").strip(), int(line.get("quantity") or 0))
        for line in order.get("line_items") or []
    ]
    taken, short = _allocate(order_lines, {sku: qty for sku, (qty, __) in items.items()})
    if short:
        raise PushError(
            "The WooCommerce order has no line for "
            + ", ".join(f"{sku} ({qty})" for sku, qty in sorted(short.items()))
            + ": check that the product's SKU on WooCommerce is the one in Odoo, then retry."
        )
    line_items = []
    for sku, (quantity, total) in items.items():
        rows = [(line_id, qty) for line_id, line_sku, qty in taken if line_sku == sku]
        rest = total = Decimal(str(total))
        for index, (line_id, qty) in enumerate(rows):
            # The last line of a SKU gets what the others left: the lines add up to the total to the cent.
            share = rest if index == len(rows) - 1 else (total * qty / quantity).quantize(Decimal("0.01"))
            rest -= share
            line_items.append({"id": line_id, "quantity": qty, "refund_total": float(share)})
    body, __ = client.request(
        "POST",
        f"orders/{order_id}/refunds",
        json={
            "amount": amount,
            "reason": reason,
            "api_refund": bool(api_refund),
            "api_restock": False,
            "line_items": line_items,
        },
    )
    if not (body or {}).get("id"):
        raise PushError("WooCommerce answered the refund without a refund id.")
    return "created", str(body["id"]), Decimal(amount) if api_refund else Decimal(0)


def woo_products(client, sku):
    """(product id, parent id or 0) of the product or variation with this SKU, or None."""
    body, __ = client.request("GET", "products", params={"sku": sku})
    for product in body or []:
        if (product.get("sku") or "").strip() == sku:
            return product["id"], product.get("parent_id") or 0
    return None


def woo_set_stock(client, items):
    """Set stock quantities. :param items: [(product id, parent id or 0, quantity)]
    :return: {product id: error message} of the items WooCommerce refused"""
    groups = {}
    for product_id, parent_id, quantity in items:
        groups.setdefault(parent_id or 0, []).append(
            {"id": int(product_id), "stock_quantity": int(quantity), "manage_stock": True}
        )
    refused = {}
    for parent_id, updates in sorted(groups.items()):
        path = f"products/{parent_id}/variations/batch" if parent_id else "products/batch"
        for start in range(0, len(updates), WOO_BATCH):
            body, __ = client.request("POST", path, json={"update": updates[start : start + WOO_BATCH]})
            for answer in (body or {}).get("update") or []:
                if answer.get("error"):
                    refused[answer.get("id")] = (answer["error"] or {}).get("message") or str(answer["error"])
    return refused
