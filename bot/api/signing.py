"""Request signatures: `X-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(API_SECRET, "<t>.<raw body>")>`.

The timestamp is inside the signed text, so a captured request cannot be
replayed after the tolerance window with a fresh `t`. Several `v1=` entries are
accepted (any may match), which lets a platform sign with an old and a new
secret while API_SECRET is being rotated on our side.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import time
from dataclasses import dataclass

HEADER = "X-Signature"
TOLERANCE_SECONDS = 300
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")
_TIMESTAMP = re.compile(r"[0-9]{1,12}")


class SignatureError(Exception):
    """The request is not authentic; the message says why (safe to return to the caller)."""


@dataclass(frozen=True)
class SignatureHeader:
    timestamp: int
    digests: tuple[bytes, ...]  # lower-case hex, ASCII


def digest(secret: str, body: bytes, t: int) -> str:
    return hmac.new(secret.encode("utf-8"), str(t).encode("ascii") + b"." + body, hashlib.sha256).hexdigest()


def sign(secret: str, body: bytes, t: int | None = None) -> str:
    """The X-Signature value for `body` signed at `t` (default: now)."""
    t = int(time.time()) if t is None else t
    return f"t={t},v1={digest(secret, body, t)}"


def parse_header(value: str | None) -> SignatureHeader:
    if not value:
        raise SignatureError(f"missing {HEADER} header")
    timestamp: int | None = None
    digests: list[bytes] = []
    for part in value.split(","):
        key, sep, item = part.strip().partition("=")
        if not sep:
            raise SignatureError(f"malformed {HEADER} header: expected t=<unix seconds>,v1=<hex>")
        if key == "t":
            if timestamp is not None or not _TIMESTAMP.fullmatch(item):
                raise SignatureError(f"malformed {HEADER} header: t must be one unix time in seconds")
            timestamp = int(item)
        elif key == "v1":
            if not _HEX_DIGEST.fullmatch(item):
                raise SignatureError(f"malformed {HEADER} header: v1 must be 64 hex digits (HMAC-SHA256)")
            digests.append(item.lower().encode("ascii"))
        # Other keys (a future v2, say) are ignored so the platform can add them first.
    if timestamp is None or not digests:
        raise SignatureError(f"malformed {HEADER} header: expected t=<unix seconds>,v1=<hex>")
    return SignatureHeader(timestamp, tuple(digests))


def check_fresh(header: SignatureHeader, now: float, tolerance: int = TOLERANCE_SECONDS) -> None:
    skew = header.timestamp - now
    if abs(skew) > tolerance:
        direction = "ahead of" if skew > 0 else "behind"
        raise SignatureError(
            f"stale timestamp: t is {abs(skew):.0f} s {direction} the server clock (allowed: {tolerance} s)"
        )


def check_digest(header: SignatureHeader, secret: str, body: bytes) -> None:
    expected = digest(secret, body, header.timestamp).encode("ascii")
    # Every candidate is compared, in constant time, so timing reveals neither which nor how much matched.
    matched = False
    for given in header.digests:
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise SignatureError("signature does not match (HMAC-SHA256 over \"<t>.<raw body>\" with API_SECRET)")
