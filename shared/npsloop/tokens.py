"""Signed, expiring tokens for links in emails (unsubscribe, survey answers): HMAC-SHA256, URL-safe.

A token is `<base64url(JSON payload)>.<base64url(HMAC-SHA256(key, purpose + "." + payload part))>`. The payload
carries its expiry as `exp` (Unix seconds). The purpose is bound into the MAC, so an unsubscribe token can never
be used as, say, an answer token. Tokens are not encrypted: put no secret in the payload (an address is fine in a
link sent to that address). The key comes from the npsloop secret (`notify.token_key`).

    token = sign({"email": "ada@example.com"}, key, purpose="unsubscribe", ttl=timedelta(days=365))
    payload = verify(token, key, purpose="unsubscribe")   # raises TokenError when forged, altered or expired
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from datetime import timedelta
from typing import Any

from npsloop.errors import NpsloopError


class TokenError(NpsloopError):
    """The token is malformed, forged, made for another purpose, or expired."""

    status = 400


class TokenExpiredError(TokenError):
    """The token is genuine but past its expiry: the person can be told so kindly."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _mac(key: str, purpose: str, body: str) -> str:
    return _b64(hmac.new(key.encode(), f"{purpose}.{body}".encode(), hashlib.sha256).digest())


def sign(payload: dict[str, Any], key: str, *, purpose: str, ttl: timedelta, now: float | None = None) -> str:
    """A token holding `payload` plus its expiry, valid for `purpose` only."""
    if not key:
        raise ValueError("a token key is required")
    body = _b64(json.dumps({**payload, "exp": int((now or time.time()) + ttl.total_seconds())},
                           separators=(",", ":"), sort_keys=True).encode())  # fmt: skip
    return f"{body}.{_mac(key, purpose, body)}"


def verify(token: str | None, key: str, *, purpose: str, now: float | None = None) -> dict[str, Any]:
    """The payload (without `exp`) when the token is genuine, made for `purpose` and not expired."""
    body, _, mac = (token or "").partition(".")
    if not body or not mac or not key:
        raise TokenError("the link is incomplete")
    if not hmac.compare_digest(mac, _mac(key, purpose, body)):
        raise TokenError("the link is not valid")
    try:
        payload = json.loads(_unb64(body))
        expires = int(payload.pop("exp"))
    except (ValueError, KeyError, TypeError):
        raise TokenError("the link is not valid") from None
    if expires < (now or time.time()):
        raise TokenExpiredError("the link has expired")
    return payload


def peek(token: str) -> dict[str, Any]:
    """The payload of a token that was verified before (replay of an archived delivery), without checking it again."""
    try:
        payload = json.loads(_unb64(token.partition(".")[0]))
    except ValueError:
        raise TokenError("the link is not valid") from None
    if not isinstance(payload, dict):
        raise TokenError("the link is not valid")
    payload.pop("exp", None)
    return payload
