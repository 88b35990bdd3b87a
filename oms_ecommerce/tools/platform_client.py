"""HTTP clients of the platforms' admin APIs: Shopify (Admin GraphQL and REST) and WooCommerce (REST v3).

Both are thin: they build the URL, authenticate, put a timeout on every call and turn each kind of
failure into one :class:`PlatformError` whose ``retryable`` says whether trying again later can help
(HTTP 429 with its ``Retry-After`` or Shopify's throttle cost, 5xx, timeouts, refused connections) or
whether someone has to fix something first (other 4xx, a GraphQL error). Credentials travel in headers
only (never in a URL) and never appear in an error message.

https://shopify.dev/docs/api/admin-graphql , https://shopify.dev/docs/api/usage/rate-limits ,
https://woocommerce.github.io/woocommerce-rest-api-docs/#authentication
"""

import ipaddress
import re
from urllib.parse import urlsplit

import requests

DEFAULT_TIMEOUT = 20
DEFAULT_RETRY_AFTER = 2.0
SHOPIFY_API_VERSION = "2025-10"
_LINK_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')


class PlatformError(Exception):
    """A call to a platform failed. ``retryable``: trying again later may succeed."""

    def __init__(self, message, status=None, retryable=False, retry_after=None):
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.retry_after = retry_after


def _loopback(host):
    if host in ("localhost",):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def base_url(address, what):
    """``https://<host>`` of a shop given as a domain or a URL. Plain ``http`` only on the loopback (tests,
    a local stand-in): credentials never cross a network in clear."""
    address = (address or "").strip().rstrip("/")
    if not address:
        raise PlatformError(f"No {what} is set on the channel.")
    if "://" not in address:
        address = f"https://{address}"
    parts = urlsplit(address)
    if not parts.hostname:
        raise PlatformError(f"The {what} {address!r} is not a host name or URL.")
    if parts.scheme != "https" and not (parts.scheme == "http" and _loopback(parts.hostname)):
        raise PlatformError(f"The {what} must be an https address ({address!r} is not).")
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def _retry_after(response):
    value = response.headers.get("Retry-After")
    try:
        return max(float(value), 0.0) if value is not None else DEFAULT_RETRY_AFTER
    except ValueError:
        return DEFAULT_RETRY_AFTER


def _short(text, limit=300):
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _json_or_none(response):
    try:
        return response.json()
    except ValueError:
        return None


def _send(platform, method, url, timeout, **kwargs):
    try:
        response = requests.request(method, url, timeout=timeout, allow_redirects=False, **kwargs)
    except requests.Timeout:
        raise PlatformError(f"{platform} did not answer within {timeout} s.", retryable=True) from None
    except requests.RequestException as error:
        # The exception's text names the URL only (no credentials are in URLs).
        raise PlatformError(f"{platform} could not be reached: {type(error).__name__}.", retryable=True) from None
    if response.status_code == 429:
        raise PlatformError(
            f"{platform} is rate-limiting the calls (HTTP 429).",
            status=429,
            retryable=True,
            retry_after=_retry_after(response),
        )
    if response.status_code >= 500:
        raise PlatformError(
            f"{platform} answered HTTP {response.status_code}: {_short(response.text)}",
            status=response.status_code,
            retryable=True,
            retry_after=_retry_after(response) if "Retry-After" in response.headers else None,
        )
    if response.status_code >= 400:
        detail = _short(response.text)
        body = _json_or_none(response)
        if isinstance(body, dict):
            detail = _short(str(body.get("message") or body.get("errors") or body.get("error") or detail))
        hint = {
            401: " Check the access token / consumer key and secret on the channel.",
            403: " The token or key lacks the permission (scope) this call needs.",
            404: " Check the shop address and that the resource still exists on the platform.",
        }.get(response.status_code, "")
        raise PlatformError(
            f"{platform} refused the call (HTTP {response.status_code}): {detail}.{hint}",
            status=response.status_code,
        )
    if 300 <= response.status_code < 400:
        raise PlatformError(
            f"{platform} redirected the call (HTTP {response.status_code}): check the shop address.",
            status=response.status_code,
        )
    try:
        return response, response.json() if response.content else None
    except ValueError:
        raise PlatformError(f"{platform} answered something that is not JSON: {_short(response.text)}") from None


class ShopifyClient:
    """Shopify Admin API of one shop (``<shop>.myshopify.com``) with an Admin API access token."""

    def __init__(self, shop, token, api_version=None, timeout=DEFAULT_TIMEOUT):
        if not token:
            raise PlatformError("No Shopify Admin API access token is set on the channel.")
        self.base = f"{base_url(shop, 'Shopify shop domain')}/admin/api/{api_version or SHOPIFY_API_VERSION}"
        self.timeout = timeout
        self._headers = {"X-Shopify-Access-Token": token, "Content-Type": "application/json"}

    def graphql(self, query, variables=None):
        """The ``data`` of a GraphQL call. A throttled call raises a retryable error whose ``retry_after``
        is computed from the query cost and the bucket's restore rate."""
        __, body = _send(
            "Shopify",
            "POST",
            f"{self.base}/graphql.json",
            self.timeout,
            headers=self._headers,
            json={"query": query, "variables": variables or {}},
        )
        body = body if isinstance(body, dict) else {}
        errors = body.get("errors")
        if errors:
            errors = errors if isinstance(errors, list) else [{"message": str(errors)}]
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errors if isinstance(e, dict)):
                raise PlatformError(
                    "Shopify throttled the call (query cost above what is available).",
                    status=200,
                    retryable=True,
                    retry_after=self._throttle_wait(body),
                )
            messages = "; ".join(str(e.get("message") if isinstance(e, dict) else e) for e in errors)
            raise PlatformError(f"Shopify refused the query: {_short(messages)}")
        return body.get("data") or {}

    @staticmethod
    def _throttle_wait(body):
        cost = (body.get("extensions") or {}).get("cost") or {}
        status = cost.get("throttleStatus") or {}
        try:
            missing = float(cost.get("requestedQueryCost", 0)) - float(status.get("currentlyAvailable", 0))
            rate = float(status.get("restoreRate") or 50)
            return max(missing / rate, 1.0)
        except (TypeError, ValueError):
            return DEFAULT_RETRY_AFTER

    def get(self, path, params=None):
        """A REST ``GET`` (``orders.json``…): ``(body, next_url)`` following Shopify's cursor ``Link`` header."""
        url = path if path.startswith(self.base) else f"{self.base}/{path.lstrip('/')}"
        response, body = _send("Shopify", "GET", url, self.timeout, headers=self._headers, params=params)
        match = _LINK_NEXT.search(response.headers.get("Link", ""))
        return body, (match.group(1) if match else None)


class WooCommerceClient:
    """WooCommerce REST API v3 of one site, authenticated with a REST consumer key and secret (HTTP Basic
    over https, as WooCommerce documents)."""

    def __init__(self, site, key, secret, timeout=DEFAULT_TIMEOUT):
        if not key or not secret:
            raise PlatformError("No WooCommerce REST consumer key and secret are set on the channel.")
        self.base = f"{base_url(site, 'WooCommerce site URL')}/wp-json/wc/v3"
        self.timeout = timeout
        self._auth = (key, secret)

    def request(self, method, path, params=None, json=None):
        """``(body, total_pages)`` of one call (``X-WP-TotalPages`` on lists)."""
        response, body = _send(
            "WooCommerce",
            method,
            f"{self.base}/{path.lstrip('/')}",
            self.timeout,
            auth=self._auth,
            params=params,
            json=json,
        )
        try:
            pages = int(response.headers.get("X-WP-TotalPages") or 1)
        except ValueError:
            pages = 1
        return body, pages
