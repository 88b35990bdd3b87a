"""Request signatures of the channel API (API.md, *Authentication*).

A signature authorises one request to one endpoint with one body, for a short time::

    X-OMS-Timestamp: <Unix seconds>
    X-OMS-Signature: v2=<hex HMAC-SHA256(secret, "<timestamp>\\n<METHOD>\\n<path>\\n" + raw body)>
"""

import hmac
import time
from hashlib import sha256

SCHEME = "v2="
# A signed request is accepted this many seconds either side of the server's clock.
TOLERANCE = 300


def signed_message(timestamp, method, path, body=b""):
    """The bytes a v2 signature covers: timestamp, upper-case method and path (with its query), then the body."""
    if isinstance(body, str):
        body = body.encode()
    return f"{timestamp}\n{method.upper()}\n{path}\n".encode("utf-8", "surrogateescape") + (body or b"")


def sign(secret, timestamp, method, path, body=b""):
    """The ``X-OMS-Signature`` value for a request."""
    digest = hmac.new(secret.encode(), signed_message(timestamp, method, path, body), sha256).hexdigest()
    return SCHEME + digest


def signed_headers(secret, method, path, body=b"", timestamp=None):
    """Both headers of a request signed now (or at ``timestamp``), for clients and tests."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return {"X-OMS-Timestamp": str(timestamp), "X-OMS-Signature": sign(secret, timestamp, method, path, body)}


def check(secrets, timestamp, signature, method, path, body, now=None):
    """Check a request's signature against each of ``secrets`` (constant time).

    :return: None when the request is authentic and fresh, else ``"bad_signature"`` (missing, malformed,
        the body-only ``sha256=`` form, or wrong) or ``"stale_request"`` (authentic, but its timestamp is
        more than TOLERANCE seconds away from ``now``)
    """
    if not signature or not timestamp or not signature.strip().startswith(SCHEME):
        return "bad_signature"
    timestamp = timestamp.strip()
    if not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        return "bad_signature"
    given = signature.strip().encode("ascii", "replace")
    authentic = False
    for secret in secrets:
        if secret and hmac.compare_digest(sign(secret, timestamp, method, path, body).encode(), given):
            authentic = True
    if not authentic:
        return "bad_signature"
    now = time.time() if now is None else now
    if abs(now - int(timestamp)) > TOLERANCE:
        return "stale_request"
    return None
