"""The stand-in's OAuth 2.0 token endpoint: client-credentials and JWT-bearer grants (JWT signatures not checked)."""

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Mapping

from .ids import DEFAULT_USER_ID, ORG_ID

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
CLIENT_CREDENTIALS = "client_credentials"
_BASE64URL = re.compile(r"[A-Za-z0-9_-]*")


class OAuthError(Exception):
    """A refused token request: HTTP 400 with {"error", "error_description"}."""

    def __init__(self, error: str, description: str):
        super().__init__(description)
        self.body = {"error": error, "error_description": description}


class Tokens:
    """Access tokens issued by the stand-in; expire_all() invalidates every one of them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._valid: set[str] = set()
        self._key = secrets.token_bytes(32)

    def issue(self) -> str:
        token = f"{ORG_ID[:15]}!{secrets.token_urlsafe(48)}"
        with self._lock:
            self._valid.add(token)
        return token

    def is_valid(self, token: str) -> bool:
        with self._lock:
            return token in self._valid

    def expire_all(self) -> None:
        with self._lock:
            self._valid.clear()

    def sign(self, text: str) -> str:
        return base64.b64encode(hmac.new(self._key, text.encode(), hashlib.sha256).digest()).decode()


def grant(form: Mapping[str, str], basic_auth: tuple[str, str] | None, base_url: str, tokens: Tokens) -> dict:
    """The token response for a form-encoded token request; raises OAuthError."""
    grant_type = form.get("grant_type", "")
    if grant_type == CLIENT_CREDENTIALS:
        client_id, client_secret = basic_auth or (form.get("client_id", ""), form.get("client_secret", ""))
        if not client_id:
            raise OAuthError("invalid_client_id", "client identifier invalid")
        if not client_secret:
            raise OAuthError("invalid_client", "invalid client credentials")
        extra = {"token_format": "opaque"}
    elif grant_type == JWT_BEARER:
        _check_assertion(form.get("assertion", ""))
        extra = {"scope": "api"}
    else:
        raise OAuthError("unsupported_grant_type", "grant type not supported")
    identity = f"{base_url}/id/{ORG_ID}/{DEFAULT_USER_ID}"
    issued_at = str(int(time.time() * 1000))
    return {
        "access_token": tokens.issue(),
        **extra,
        "signature": tokens.sign(identity + issued_at),
        "instance_url": base_url,
        "id": identity,
        "token_type": "Bearer",
        "issued_at": issued_at,
    }


def _check_assertion(assertion: str) -> None:
    """A well-formed JWT with iss, sub, aud and an exp in the future; the signature is not verified."""
    parts = assertion.split(".")
    try:
        if len(parts) != 3 or not all(_BASE64URL.fullmatch(part) for part in parts):
            raise ValueError
        header, claims = (json.loads(_b64url(part)) for part in parts[:2])
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_grant", "invalid assertion") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise OAuthError("invalid_grant", "invalid assertion")
    missing = [claim for claim in ("iss", "sub", "aud", "exp") if claim not in claims]
    if missing:
        raise OAuthError("invalid_grant", f"invalid assertion: missing claim(s) {', '.join(missing)}")
    exp = claims["exp"]
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp <= time.time():
        raise OAuthError("invalid_grant", "expired authorization code")


def _b64url(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
