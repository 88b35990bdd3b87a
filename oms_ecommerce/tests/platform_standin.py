# Longer than ~570 lines on purpose: one stand-in server for the Shopify and WooCommerce endpoints the tests call, in their documented shapes; splitting it per platform would duplicate the server.
"""A stand-in for the platforms' admin APIs, on 127.0.0.1, for tests and the bench.

It implements the few calls Odoo makes, in the platforms' published shapes:

- Shopify Admin GraphQL (``POST /admin/api/<version>/graphql.json``): ``order { fulfillmentOrders }``,
  ``fulfillmentCreate``, ``orderCancel``, ``productVariants(query: "sku:…")``, ``inventorySetQuantities``,
  ``order { refunds lineItems { refundableQuantity } }``, ``order { suggestedRefund }``, ``refundCreate``;
- WooCommerce REST v3 (``/wp-json/wc/v3/``): ``GET/POST orders/<id>/notes``, ``GET/PUT orders/<id>``,
  ``POST orders/<id>/refunds``, ``GET products?sku=``, ``POST products/batch``,
  ``POST products/<parent>/variations/batch``.

It records every request (``requests``: method, path, query, json) and answers faults on demand
(``fail_next("429" | "500" | "timeout" | "throttled" | "user_errors", times=1, match=None)``) or at random
(``fault_rate``: a share of the calls answered 429 or 500, for the bench). Credentials are checked
(a wrong token is refused with 401), never recorded.
"""

import json
import random
import re
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

SHOPIFY_TOKEN = "shpat_standin_token"
WOO_KEY = "ck_standin"
WOO_SECRET = "cs_standin"


class PlatformStandin:
    def __init__(self, fault_rate=0.0, seed=1, timeout_sleep=2.5):
        self.lock = threading.RLock()
        self.fault_rate = fault_rate
        self.random = random.Random(seed)
        self.timeout_sleep = timeout_sleep
        self.server = None
        self.thread = None
        self.reset()

    def reset(self):
        """Forget every request, fault and platform record (between tests)."""
        self.requests = []
        self.faults = []  # [kind, times, match]
        # Shopify
        # order id -> {"fulfillment_orders": [{"id", "status", "lines": [{id, sku, remaining}]}],
        #              "line_items": [{"id", "sku", "quantity", "refunded"}],
        #              "transactions": [{"id", "kind", "gateway", "amount", "refunded"}], "refunds": [{"id", "note"}]}
        self.orders = {}
        self.fulfillments = []  # {"id", "order", "lines", "trackingInfo", "notifyCustomer"}
        self.cancelled = {}  # order id -> variables of orderCancel
        self.variants = {}  # sku -> inventory item gid
        self.inventory = {}  # (inventory item gid, location gid) -> quantity
        # WooCommerce
        # id -> {"status", "notes": [{"id", "note", "customer_note"}], "line_items": [{"id", "sku", "quantity"}],
        #        "refunds": [{"id", "reason", "total"}]}
        self.woo_orders = {}
        self.woo_refunds = []  # {"id", "order", "body"}: what each refund call asked
        self.woo_products = {}  # sku -> {"id", "parent_id"}
        self.woo_stock = {}  # product id -> stock_quantity
        self._ids = 1000

    # ------------------------------------------------------------------ set-up

    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                standin._dispatch(self)

            do_GET = do_POST = do_PUT = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def next_id(self):
        with self.lock:
            self._ids += 1
            return self._ids

    def add_shopify_order(self, order_id, lines, split=False, paid=None, gateway="shopify_payments"):
        """An order with one open fulfillment order holding ``lines`` ({sku: quantity}); with ``split``,
        one fulfillment order per SKU (as when the items ship from two locations). ``paid`` (a decimal string):
        one successful SALE transaction of that amount through ``gateway``."""
        items = list(lines.items())
        groups = [[item] for item in items] if split else [items]
        self.orders[str(order_id)] = {
            "line_items": [
                {"id": f"gid://shopify/LineItem/{self.next_id()}", "sku": sku, "quantity": qty, "refunded": 0}
                for sku, qty in items
            ],
            "transactions": [
                {
                    "id": f"gid://shopify/OrderTransaction/{self.next_id()}",
                    "kind": "SALE",
                    "gateway": gateway,
                    "amount": Decimal(paid),
                    "refunded": Decimal(0),
                }
            ]
            if paid
            else [],
            "refunds": [],
            "fulfillment_orders": [
                {
                    "id": f"gid://shopify/FulfillmentOrder/{self.next_id()}",
                    "status": "OPEN",
                    "lines": [
                        {"id": f"gid://shopify/FulfillmentOrderLineItem/{self.next_id()}", "sku": sku, "remaining": qty}
                        for sku, qty in group
                    ],
                }
                for group in groups
            ],
        }

    def add_woo_order(self, order_id, lines, status="processing"):
        """A WooCommerce order whose line items hold ``lines`` ({sku: quantity}), one line per SKU."""
        self.woo_orders[str(order_id)] = {
            "status": status,
            "notes": [],
            "line_items": [{"id": self.next_id(), "sku": sku, "quantity": qty} for sku, qty in lines.items()],
            "refunds": [],
        }

    def add_variant(self, sku):
        self.variants[sku] = f"gid://shopify/InventoryItem/{self.next_id()}"
        return self.variants[sku]

    def add_woo_product(self, sku, parent_id=0):
        product_id = self.next_id()
        self.woo_products[sku] = {"id": product_id, "parent_id": parent_id}
        return product_id

    def fail_next(self, kind, times=1, match=None):
        """Answer the next ``times`` calls whose path or GraphQL query contains ``match`` with a fault."""
        with self.lock:
            self.faults.append([kind, times, match])

    def calls(self, match=None):
        return [r for r in self.requests if match is None or match in r["path"] or match in (r.get("query") or "")]

    # ------------------------------------------------------------------ serving

    def _answer(self, handler, status, body=None, headers=None):
        raw = json.dumps(body if body is not None else {}).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(raw)))
            for key, value in (headers or {}).items():
                handler.send_header(key, value)
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            handler.close_connection = True  # the client gave up (its timeout): nobody reads the answer

    def _take_fault(self, text):
        with self.lock:
            for fault in self.faults:
                if fault[1] > 0 and (fault[2] is None or fault[2] in text):
                    fault[1] -= 1
                    if not fault[1]:
                        self.faults.remove(fault)
                    return fault[0]
            if self.fault_rate and self.random.random() < self.fault_rate:
                return self.random.choice(["429", "500"])
        return None

    def _dispatch(self, handler):
        parts = urlsplit(handler.path)
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length) if length else b""
        body = json.loads(raw) if raw else None
        record = {
            "method": handler.command,
            "path": parts.path,
            "params": {k: v[0] for k, v in parse_qs(parts.query).items()},
            "json": body,
            "query": (body or {}).get("query") if isinstance(body, dict) else None,
        }
        with self.lock:
            self.requests.append(record)
        fault = self._take_fault(parts.path + " " + (record["query"] or ""))
        if fault == "timeout":
            time.sleep(self.timeout_sleep)
            return self._answer(handler, 504, {"errors": "timed out"})
        if fault == "429":
            return self._answer(handler, 429, {"errors": "Exceeded 2 calls per second"}, {"Retry-After": "2.0"})
        if fault == "500":
            return self._answer(handler, 500, {"errors": "Internal Server Error"})
        if parts.path.startswith("/admin/api/"):
            if handler.headers.get("X-Shopify-Access-Token") != SHOPIFY_TOKEN:
                return self._answer(handler, 401, {"errors": "[API] Invalid API key or access token"})
            status, answer = self._shopify(body or {}, fault)
        elif parts.path.startswith("/wp-json/wc/v3/"):
            if handler.headers.get("Authorization") is None:
                return self._answer(handler, 401, {"code": "woocommerce_rest_cannot_view", "message": "Sorry"})
            status, answer = self._woo(handler.command, parts.path[len("/wp-json/wc/v3/") :], record, fault)
        else:
            status, answer = 404, {"message": "No route"}
        return self._answer(handler, status, answer)

    # ------------------------------------------------------------------ Shopify

    @staticmethod
    def _cost(requested=10):
        return {
            "cost": {
                "requestedQueryCost": requested,
                "actualQueryCost": requested,
                "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0},
            }
        }

    def _shopify(self, body, fault):
        query, variables = body.get("query") or "", body.get("variables") or {}
        if fault == "throttled":
            extensions = self._cost(requested=1200)
            extensions["cost"]["throttleStatus"]["currentlyAvailable"] = 1000
            return 200, {
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": extensions,
            }
        with self.lock:
            if "refundCreate" in query:
                data = {"refundCreate": self._refund_create(variables["input"], fault)}
            elif "suggestedRefund" in query:
                order = self.orders.get(variables["id"].rsplit("/", 1)[-1])
                data = {"order": {"suggestedRefund": self._suggested_refund(order)} if order else None}
            elif "refundableQuantity" in query:
                order_id = variables["id"].rsplit("/", 1)[-1]
                order = self.orders.get(order_id)
                data = {"order": self._refund_order_node(order_id, order) if order else None}
            elif "fulfillmentCreate" in query:
                data = {"fulfillmentCreate": self._fulfillment_create(variables["fulfillment"], fault)}
            elif "orderCancel" in query:
                data = {"orderCancel": self._order_cancel(variables, fault)}
            elif "inventorySetQuantities" in query:
                data = {"inventorySetQuantities": self._inventory_set(variables["input"], fault)}
            elif "productVariants" in query:
                skus = re.findall(r'sku:"?([^" ]+)"?', variables.get("query", ""))
                data = {
                    "productVariants": {
                        "nodes": [
                            {"sku": sku, "inventoryItem": {"id": self.variants[sku]}}
                            for sku in skus
                            if sku in self.variants
                        ]
                    }
                }
            elif "fulfillmentOrders" in query:
                order_id = variables["id"].rsplit("/", 1)[-1]
                order = self.orders.get(order_id)
                data = {"order": self._order_node(order_id, order) if order else None}
            else:
                return 200, {"errors": [{"message": "Unknown operation in the stand-in"}]}
        return 200, {"data": data, "extensions": self._cost()}

    @staticmethod
    def _order_node(order_id, order):
        return {
            "id": f"gid://shopify/Order/{order_id}",
            "fulfillmentOrders": {
                "nodes": [
                    {
                        "id": fo["id"],
                        "status": fo["status"],
                        "lineItems": {
                            "nodes": [
                                {
                                    "id": line["id"],
                                    "remainingQuantity": line["remaining"],
                                    "lineItem": {"sku": line["sku"]},
                                }
                                for line in fo["lines"]
                            ]
                        },
                    }
                    for fo in order["fulfillment_orders"]
                ]
            },
        }

    def _fulfillment_create(self, fulfillment, fault):
        if fault == "user_errors":
            return {
                "fulfillment": None,
                "userErrors": [{"field": ["fulfillment"], "message": "Tracking company is invalid"}],
            }
        fos = {
            fo["id"]: (order_id, fo) for order_id, order in self.orders.items() for fo in order["fulfillment_orders"]
        }
        taken, order_id = [], None
        for group in fulfillment.get("lineItemsByFulfillmentOrder") or []:
            if group["fulfillmentOrderId"] not in fos:
                return {"fulfillment": None, "userErrors": [{"field": ["fulfillmentOrderId"], "message": "Not found"}]}
            order_id, fo = fos[group["fulfillmentOrderId"]]
            if fo["status"] not in ("OPEN", "IN_PROGRESS"):
                return {"fulfillment": None, "userErrors": [{"field": None, "message": "Fulfillment order is closed"}]}
            lines = {line["id"]: line for line in fo["lines"]}
            asked = group.get("fulfillmentOrderLineItems")
            if not asked:  # Shopify fulfils every remaining item of the fulfillment order
                asked = [{"id": line["id"], "quantity": line["remaining"]} for line in fo["lines"] if line["remaining"]]
            for item in asked:
                line = lines.get(item["id"])
                if not line or item["quantity"] > line["remaining"]:
                    return {
                        "fulfillment": None,
                        "userErrors": [
                            {
                                "field": ["lineItems"],
                                "message": "Invalid fulfillment order line item quantity requested.",
                            }
                        ],
                    }
                taken.append((line, item["quantity"]))
        for line, quantity in taken:
            line["remaining"] -= quantity
        for __, fo in fos.values():
            if all(not line["remaining"] for line in fo["lines"]):
                fo["status"] = "CLOSED"
            elif any(line["remaining"] for line in fo["lines"]) and taken:
                fo["status"] = fo["status"] if fo["status"] == "CLOSED" else "IN_PROGRESS"
        created = {
            "id": f"gid://shopify/Fulfillment/{self.next_id()}",
            "order": order_id,
            "lines": {line["sku"]: quantity for line, quantity in taken},
            "trackingInfo": fulfillment.get("trackingInfo"),
            "notifyCustomer": fulfillment.get("notifyCustomer"),
        }
        self.fulfillments.append(created)
        return {"fulfillment": {"id": created["id"], "status": "SUCCESS"}, "userErrors": []}

    @staticmethod
    def _refund_order_node(order_id, order):
        return {
            "id": f"gid://shopify/Order/{order_id}",
            "refunds": [{"id": r["id"], "note": r["note"]} for r in order["refunds"]],
            "lineItems": {
                "nodes": [
                    {"id": line["id"], "sku": line["sku"], "refundableQuantity": line["quantity"] - line["refunded"]}
                    for line in order["line_items"]
                ]
            },
        }

    @staticmethod
    def _suggested_refund(order):
        """What Shopify suggests: each successful sale as the parent of a refund, up to what is left of it."""
        return {
            "suggestedTransactions": [
                {
                    "gateway": t["gateway"],
                    "parentTransaction": {"id": t["id"]},
                    "maximumRefundableSet": {"shopMoney": {"amount": str(t["amount"] - t["refunded"])}},
                }
                for t in order["transactions"]
                if t["kind"] in ("SALE", "CAPTURE") and t["amount"] > t["refunded"]
            ]
        }

    def _refund_create(self, refund_input, fault):
        def refused(field, message):
            return {"refund": None, "userErrors": [{"field": field, "message": message}]}

        if fault == "user_errors":
            return refused(["transactions"], "Refund amount must be less than or equal to the refundable amount.")
        order = self.orders.get(refund_input["orderId"].rsplit("/", 1)[-1])
        if order is None:
            return refused(["orderId"], "Order does not exist")
        lines = {line["id"]: line for line in order["line_items"]}
        for item in refund_input.get("refundLineItems") or []:
            line = lines.get(item["lineItemId"])
            if not line:
                return refused(["refundLineItems"], "Line item does not exist")
            if item["quantity"] > line["quantity"] - line["refunded"]:
                return refused(["refundLineItems", "quantity"], "Quantity cannot refund more items than were purchased")
            if item.get("restockType") not in ("NO_RESTOCK", "RETURN", "CANCEL"):
                return refused(["refundLineItems", "restockType"], "Restock type is invalid")
        parents = {t["id"]: t for t in order["transactions"]}
        for transaction in refund_input.get("transactions") or []:
            parent = parents.get(transaction.get("parentId"))
            if transaction.get("kind") != "REFUND" or not parent or transaction.get("gateway") != parent["gateway"]:
                return refused(["transactions"], "Transaction is invalid")
            if Decimal(transaction["amount"]) > parent["amount"] - parent["refunded"]:
                return refused(["transactions"], "Refund amount must be less than or equal to the refundable amount.")
        for item in refund_input.get("refundLineItems") or []:
            lines[item["lineItemId"]]["refunded"] += item["quantity"]
        for transaction in refund_input.get("transactions") or []:
            parents[transaction["parentId"]]["refunded"] += Decimal(transaction["amount"])
        refund = {
            "id": f"gid://shopify/Refund/{self.next_id()}",
            "note": refund_input.get("note"),
            "input": refund_input,
        }
        order["refunds"].append(refund)
        return {"refund": {"id": refund["id"]}, "userErrors": []}

    def _order_cancel(self, variables, fault):
        order_id = variables["orderId"].rsplit("/", 1)[-1]
        if fault == "user_errors":
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": "Order has pending payment authorizations", "code": "INVALID"}
                ],
            }
        if order_id not in self.orders:
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {"field": ["orderId"], "message": "Order does not exist", "code": "NOT_FOUND"}
                ],
            }
        if order_id in self.cancelled:
            return {
                "job": None,
                "orderCancelUserErrors": [
                    {
                        "field": ["orderId"],
                        "message": "Order has already been cancelled",
                        "code": "ORDER_ALREADY_CANCELLED",
                    }
                ],
            }
        self.cancelled[order_id] = variables
        return {"job": {"id": f"gid://shopify/Job/{self.next_id()}", "done": False}, "orderCancelUserErrors": []}

    def _inventory_set(self, payload, fault):
        if fault == "user_errors":
            return {
                "inventoryAdjustmentGroup": None,
                "userErrors": [
                    {
                        "field": ["input", "quantities", "0", "locationId"],
                        "message": "The specified location could not be found.",
                    }
                ],
            }
        known = set(self.variants.values())
        for item in payload["quantities"]:
            if item["inventoryItemId"] not in known:
                return {
                    "inventoryAdjustmentGroup": None,
                    "userErrors": [{"field": ["input"], "message": "Inventory item not found"}],
                }
        for item in payload["quantities"]:
            self.inventory[(item["inventoryItemId"], item["locationId"])] = item["quantity"]
        return {"inventoryAdjustmentGroup": {"reason": payload["reason"]}, "userErrors": []}

    # ------------------------------------------------------------------ WooCommerce

    def _woo(self, method, path, record, fault):
        # Longer than ~100 lines on purpose: WooCommerce's routing table, one short branch per endpoint.
        body = record["json"] or {}
        if fault == "user_errors":
            return 400, {
                "code": "woocommerce_rest_invalid",
                "message": "Invalid parameter(s): status",
                "data": {"status": 400},
            }
        with self.lock:
            match = re.fullmatch(r"orders/(\d+)/notes", path)
            if match:
                order = self.woo_orders.get(match.group(1))
                if order is None:
                    return 404, {
                        "code": "woocommerce_rest_shop_order_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 404},
                    }
                if method == "GET":
                    return 200, order["notes"]
                note = {
                    "id": self.next_id(),
                    "note": body.get("note"),
                    "customer_note": bool(body.get("customer_note")),
                }
                order["notes"].append(note)
                return 201, note
            match = re.fullmatch(r"orders/(\d+)/refunds", path)
            if match and method == "POST":
                order = self.woo_orders.get(match.group(1))
                if order is None:
                    return 404, {
                        "code": "woocommerce_rest_shop_order_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 404},
                    }
                known = {line["id"] for line in order.get("line_items") or []}
                if any(item.get("id") not in known for item in body.get("line_items") or []):
                    return 400, {
                        "code": "woocommerce_rest_invalid_line_item",
                        "message": "Invalid line item ID.",
                        "data": {"status": 400},
                    }
                refund = {"id": self.next_id(), "reason": body.get("reason") or "", "total": f"-{body.get('amount')}"}
                order.setdefault("refunds", []).append(refund)
                self.woo_refunds.append({"id": refund["id"], "order": match.group(1), "body": body})
                return 201, {
                    "id": refund["id"],
                    "amount": body.get("amount"),
                    "reason": refund["reason"],
                    "refunded_payment": bool(body.get("api_refund", True)),
                }
            match = re.fullmatch(r"orders/(\d+)", path)
            if match and method == "GET":
                order = self.woo_orders.get(match.group(1))
                if order is None:
                    return 404, {
                        "code": "woocommerce_rest_shop_order_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 404},
                    }
                return 200, {
                    "id": int(match.group(1)),
                    "status": order["status"],
                    "line_items": order.get("line_items") or [],
                    "refunds": order.get("refunds") or [],
                }
            if match and method == "PUT":
                order = self.woo_orders.get(match.group(1))
                if order is None:
                    return 404, {
                        "code": "woocommerce_rest_shop_order_invalid_id",
                        "message": "Invalid ID.",
                        "data": {"status": 404},
                    }
                order["status"] = body.get("status", order["status"])
                return 200, {"id": int(match.group(1)), "status": order["status"]}
            if path == "products" and method == "GET":
                sku = record["params"].get("sku")
                product = self.woo_products.get(sku)
                if not product:
                    return 200, []
                kind = "variation" if product["parent_id"] else "simple"
                return 200, [{"id": product["id"], "sku": sku, "parent_id": product["parent_id"], "type": kind}]
            match = re.fullmatch(r"products(?:/(\d+)/variations)?/batch", path)
            if match and method == "POST":
                parent = int(match.group(1) or 0)
                known = {p["id"]: p for p in self.woo_products.values() if p["parent_id"] == parent}
                answers = []
                for item in body.get("update") or []:
                    if item["id"] not in known:
                        answers.append(
                            {
                                "id": item["id"],
                                "error": {
                                    "code": "woocommerce_rest_product_invalid_id",
                                    "message": "Invalid ID.",
                                    "data": {"status": 400},
                                },
                            }
                        )
                        continue
                    self.woo_stock[item["id"]] = item["stock_quantity"]
                    answers.append({"id": item["id"], "stock_quantity": item["stock_quantity"], "manage_stock": True})
                return 200, {"update": answers}
        return 404, {"code": "rest_no_route", "message": "No route was found matching the URL and request method."}
