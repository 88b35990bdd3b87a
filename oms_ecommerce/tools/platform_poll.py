"""The pages of orders a platform updated since a moment: what the poll of missed webhooks reads.

Shopify: REST Admin ``GET orders.json?status=any&updated_at_min=…&order=updated_at asc`` with cursor pages
(``Link: <…page_info=…>; rel="next"``; a next URL is followed as given: Shopify refuses other filters
beside ``page_info``). https://shopify.dev/docs/api/admin-rest/latest/resources/order#get-orders and
https://shopify.dev/docs/api/usage/pagination-rest

WooCommerce: REST ``GET orders?modified_after=…&dates_are_gmt=true&orderby=modified&order=asc``
(https://woocommerce.github.io/woocommerce-rest-api-docs/#list-all-orders). Numbered pages shift when an order
of an earlier page is modified while a run reads the later ones, which would skip its neighbour: so each page
is asked for again from the newest modification read so far (a keyset, one second early), and ``page`` only moves on, with
``X-WP-TotalPages`` saying whether more is there, when a whole page holds nothing newer (same second).

A ``429`` whose ``Retry-After`` is short is waited out (a few times, bounded); anything else raises the
client's :class:`~.platform_client.PlatformError` to the caller, which stops the run and keeps its watermark.
"""

import time
from datetime import timedelta

from .platform_client import PlatformError
from .webhooks import WebhookInvalid, utc

SHOPIFY_PAGE_SIZE = 250  # Shopify's maximum
WOO_PAGE_SIZE = 100  # WooCommerce's maximum
MAX_SLEEP = 5.0  # seconds a 429 is waited out within a run; a longer Retry-After ends the run
MAX_SLEEPS = 3
ONE_SECOND = timedelta(seconds=1)


def _call(function, *args, sleep=time.sleep, max_sleep=MAX_SLEEP, **kwargs):
    """``function(*args)``, waiting out a short rate limit (HTTP 429 or a throttle) at most ``MAX_SLEEPS`` times."""
    for attempt in range(MAX_SLEEPS + 1):
        try:
            return function(*args, **kwargs)
        except PlatformError as error:
            wait = error.retry_after
            if error.status not in (429, 200) or wait is None or wait > max_sleep or attempt == MAX_SLEEPS:
                raise
            sleep(wait)
    raise AssertionError("unreachable")


def shopify_pages(client, since, **call_options):
    """Yield the lists of orders (``orders/*`` webhook bodies) Shopify updated at or after ``since``."""
    url = "orders.json"
    params = {
        "status": "any",
        "updated_at_min": since.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "limit": SHOPIFY_PAGE_SIZE,
        "order": "updated_at asc",
    }
    while url:
        body, next_url = _call(client.get, url, params, **call_options)
        orders = body.get("orders") if isinstance(body, dict) else None
        if not isinstance(orders, list):
            raise PlatformError("Shopify answered a page of orders without its list of orders.")
        yield orders
        url, params = next_url, None


def _woo_modified(order):
    try:
        return utc(order.get("date_modified_gmt"), "date_modified_gmt", naive_utc=True)
    except (AttributeError, WebhookInvalid):
        return None


def woocommerce_pages(client, since, **call_options):
    """Yield the lists of orders (``order.*`` webhook bodies) WooCommerce modified after ``since``."""
    cursor, page = since, 1
    while True:
        params = {
            "modified_after": cursor.strftime("%Y-%m-%dT%H:%M:%S"),
            "dates_are_gmt": "true",
            "per_page": WOO_PAGE_SIZE,
            "page": page,
            "orderby": "modified",
            "order": "asc",
        }
        orders, total_pages = _call(client.request, "GET", "orders", params, **call_options)
        if not isinstance(orders, list):
            raise PlatformError("WooCommerce answered a page of orders that is not a list of orders.")
        if not orders:
            return
        yield orders
        if total_pages <= page:
            return
        newest = max((moment for moment in map(_woo_modified, orders) if moment), default=None)
        # From one second before the newest read: the orders of that same second beyond this page come too
        # (those read already are known and skipped by the caller).
        if newest and newest - ONE_SECOND > cursor:
            cursor, page = newest - ONE_SECOND, 1
        else:
            page += 1  # a whole page modified within the same second: read on by number


def pages(platform, client, since, **call_options):
    return {"shopify": shopify_pages, "woocommerce": woocommerce_pages}[platform](client, since, **call_options)
