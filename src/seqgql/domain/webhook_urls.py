"""Where a webhook may be sent: an https URL (no credentials, no fragment) whose host is
a public address. Resolving a name is I/O (``seqgql.webhooks.addresses``); judging the
addresses it gives is here."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from seqgql.domain.webhooks import MAX_URL_LENGTH

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True, slots=True)
class Destination:
    """A URL's scheme, host (without brackets) and port."""

    scheme: str
    host: str
    port: int


class BadUrl(ValueError):
    """Why a text is not a URL a webhook may be sent to."""


def destination(url: str, *, allow_http: bool = False) -> Destination:
    """The destination of ``url``; raises ``BadUrl`` saying what is wrong with it."""
    if len(url) > MAX_URL_LENGTH:
        raise BadUrl(f"at most {MAX_URL_LENGTH:,} characters ({len(url):,} given)")
    if not url.isprintable() or any(ch.isspace() for ch in url):
        raise BadUrl("a URL has no spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BadUrl(f"not a URL ({exc})") from None
    allowed = ("https", "http") if allow_http else ("https",)
    if parts.scheme not in allowed:
        raise BadUrl("the URL must start with https://")
    if not parts.hostname:
        raise BadUrl("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise BadUrl("credentials in a URL are not sent: put a token in its path or query")
    if parts.fragment:
        raise BadUrl("a URL's #fragment is not sent to the server: leave it out")
    default = 443 if parts.scheme == "https" else 80
    return Destination(parts.scheme, parts.hostname, port or default)


def literal_address(host: str) -> IPAddress | None:
    """The address a host names when it is an IP literal; None for a name."""
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def is_public(address: IPAddress) -> bool:
    """Whether an address is on the public internet: not private, loopback, link-local,
    multicast, reserved, unspecified or shared (carrier-grade NAT), nor an IPv6 address
    wrapping one of those."""
    if isinstance(address, ipaddress.IPv6Address):
        wrapped = address.ipv4_mapped or address.sixtofour or (address.teredo or (None, None))[1]
        if wrapped is not None and not is_public(wrapped):
            return False
    return address.is_global and not (
        address.is_multicast
        or address.is_loopback
        or address.is_link_local
        or address.is_reserved
        or address.is_unspecified
        or address.is_private
    )
