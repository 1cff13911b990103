"""Where a host name leads, and whether a webhook may go there: every address it resolves
to must be public (``domain.webhook_urls.is_public``) unless private ones are allowed.
Checked when an endpoint is saved and again on each connection (DNS rebinding)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket

from seqgql.domain.webhook_urls import IPAddress, is_public, literal_address

RESOLVE_SECONDS = 5.0


class RefusedAddress(Exception):
    """The host resolves to an address webhooks are not sent to."""


class Unresolvable(Exception):
    """The host name does not resolve (or not in time)."""


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to, in the resolver's order, each once."""
    literal = literal_address(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_SECONDS
        )
    except (OSError, TimeoutError, UnicodeError) as exc:
        raise Unresolvable(f"{host} does not resolve ({exc or 'timed out'})") from None
    found: dict[IPAddress, None] = {}
    for *_, sockaddr in infos:
        found[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    if not found:
        raise Unresolvable(f"{host} does not resolve")
    return list(found)


async def allowed_addresses(host: str, port: int, *, allow_private: bool) -> list[IPAddress]:
    """The addresses to connect to for ``host``; raises ``RefusedAddress`` when any of
    them is not public (and private ones are not allowed), ``Unresolvable``."""
    addresses = await resolve(host, port)
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise RefusedAddress(
                    f"{host} resolves to {address}, a private, loopback, link-local or "
                    "reserved address: webhooks go to public addresses only"
                )
    return addresses
