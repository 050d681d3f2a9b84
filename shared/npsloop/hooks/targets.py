"""Where a hook may point: https to a public address only, checked when subscribing and on every delivery.

No loopback, private, link-local (cloud metadata), shared, reserved or multicast address, by literal or by what
the name resolves to; every address a name resolves to must pass, and the delivery then connects to the checked
address (so a DNS answer that changes in between cannot smuggle a private one in). The local stack's
`--allow-loopback-targets` admits http(s) to 127.0.0.1 and nothing else, for tests.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from npsloop.errors import UnprocessableError

LOOPBACK = "127.0.0.1"
MAX_URL = 2048
Resolver = Callable[[str, int], list[str]]


class UnsafeTargetError(UnprocessableError):
    """The target URL is not an https URL of a public host."""

    def __init__(self, message: str):
        super().__init__(message, field="target_url")


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str  # with the query string

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def system_resolver(host: str, port: int) -> list[str]:
    try:
        return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, port, proto=socket.IPPROTO_TCP)})
    except (socket.gaierror, UnicodeError):
        return []


def public(address: str) -> bool:
    ip: Any = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and (ip.ipv4_mapped or ip.sixtofour):
        ip = ip.ipv4_mapped or ip.sixtofour
    return bool(ip.is_global) and not ip.is_multicast


def parse(url: str, *, allow_loopback: bool = False) -> Target:
    """The URL's parts when its form is acceptable (the address is checked by `resolve`)."""
    if not isinstance(url, str) or not url or len(url) > MAX_URL:
        raise UnsafeTargetError("target_url must be a URL of at most 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeTargetError("target_url is not a valid URL") from None
    host = (parts.hostname or "").rstrip(".").lower()
    loopback = allow_loopback and host == LOOPBACK
    if parts.scheme not in ("https", "http") or (parts.scheme == "http" and not loopback):
        raise UnsafeTargetError("target_url must be an https URL")
    if not host or parts.username or parts.password:
        raise UnsafeTargetError("target_url must name a host, without user or password")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return Target(parts.scheme, host, port or (443 if parts.scheme == "https" else 80), path)


def resolve(target: Target, *, allow_loopback: bool = False, resolver: Resolver | None = None) -> str:
    """The address to connect to: every address of the host must be public (or the admitted loopback)."""
    if allow_loopback and target.host == LOOPBACK:
        return LOOPBACK
    try:
        addresses = [str(ipaddress.ip_address(target.host))]
    except ValueError:
        addresses = (resolver or system_resolver)(target.host, target.port)
    if not addresses:
        raise UnsafeTargetError(f"target_url's host {target.host} does not resolve")
    for address in addresses:
        if not public(address):
            raise UnsafeTargetError("target_url must point to a public address, not a loopback, private, "
                                    "link-local or metadata one")  # fmt: skip
    return addresses[0]


def check(url: str, *, allow_loopback: bool = False, resolver: Resolver | None = None) -> Target:
    """Parse and resolve: raises UnsafeTargetError (422) unless the URL may be delivered to."""
    target = parse(url, allow_loopback=allow_loopback)
    resolve(target, allow_loopback=allow_loopback, resolver=resolver)
    return target
