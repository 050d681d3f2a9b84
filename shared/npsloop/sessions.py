"""Dashboard sessions: the API key is checked once, then a signed, HttpOnly, SameSite=Strict cookie stands for it."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time

COOKIE = "npsloop_session"
LIFETIME_S = 8 * 3600


class Sessions:
    def __init__(self, secret: str | bytes):
        material = secret.encode() if isinstance(secret, str) else secret
        self._key = hashlib.sha256(b"npsloop dashboard session\0" + material).digest()

    def _sign(self, payload: str) -> str:
        mac = hmac.new(self._key, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def issue(self, key_hash: str, now: float | None = None) -> str:
        """The cookie value for a session of the key with this hash (the key itself is never in it)."""
        payload = f"{key_hash}.{int((now or time.time()) + LIFETIME_S)}"
        return f"{payload}.{self._sign(payload)}"

    def key_hash(self, value: str | None, now: float | None = None) -> str | None:
        """The key hash a genuine, unexpired cookie stands for, else None."""
        if not value or value.count(".") != 2:
            return None
        digest, expires, mac = value.split(".")
        if not hmac.compare_digest(mac, self._sign(f"{digest}.{expires}")):
            return None
        if not expires.isdigit() or int(expires) < (now or time.time()):
            return None
        return digest

    @staticmethod
    def set_cookie(value: str, secure: bool) -> str:
        flags = "; Secure" if secure else ""
        return f"{COOKIE}={value}; Path=/dashboard; Max-Age={LIFETIME_S}; HttpOnly; SameSite=Strict{flags}"

    @staticmethod
    def from_cookies(cookies: list[str] | None) -> str | None:
        for cookie in cookies or []:
            name, _, value = cookie.strip().partition("=")
            if name == COOKIE:
                return value
        return None
