"""One allowed-origins setting drives CORS on HTTP and the websocket origin check."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from httpx_ws import WebSocketDisconnect, aconnect_ws
from starlette.applications import Starlette

from seqgql.app import create_app
from seqgql.clock import FrozenClock
from seqgql.settings import Settings
from tests.helpers.subscriptions import MESSAGE_SECONDS, in_process_client
from tests.helpers.workspace import Workspace

ALLOWED = "https://app.example.com"
FOREIGN = "https://evil.example.net"


@pytest.fixture
async def guarded(database_url: str, clock: FrozenClock) -> AsyncIterator[Starlette]:
    app = create_app(
        Settings(database_url=database_url, auto_migrate=False, allowed_origins=[ALLOWED]),
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        yield app


async def _preflight(app: Starlette, origin: str) -> httpx.Response:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as client:
        return await client.options(
            "/graphql",
            headers={
                "origin": origin,
                "access-control-request-method": "POST",
                "access-control-request-headers": "authorization, content-type",
            },
        )


async def test_cors_allows_only_the_configured_origins(guarded: Starlette) -> None:
    allowed = await _preflight(guarded, ALLOWED)
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    foreign = await _preflight(guarded, FOREIGN)
    assert "access-control-allow-origin" not in foreign.headers


async def test_nothing_is_allowed_cross_origin_by_default(app: Starlette) -> None:
    response = await _preflight(app, ALLOWED)
    assert "access-control-allow-origin" not in response.headers


async def _handshake(
    app: Starlette, origin: str | None, token: str, host: str | None = None
) -> str:
    headers = {"origin": origin} if origin else {}
    if host is not None:
        headers["host"] = host
    async with (
        in_process_client(app) as client,
        aconnect_ws(
            "/graphql", client, subprotocols=["graphql-transport-ws"], headers=headers
        ) as ws,
    ):
        await ws.send_json(
            {"type": "connection_init", "payload": {"authorization": f"Bearer {token}"}}
        )
        message = await asyncio.wait_for(ws.receive_json(), MESSAGE_SECONDS)
        return str(message["type"])


async def test_websocket_handshakes_follow_the_same_setting(
    guarded: Starlette, workspace: Workspace
) -> None:
    assert await _handshake(guarded, ALLOWED, workspace.token) == "connection_ack"
    assert await _handshake(guarded, None, workspace.token) == "connection_ack"
    with pytest.raises(BaseException) as refused:  # noqa: PT011 - unwrapped below
        await _handshake(guarded, FOREIGN, workspace.token)
    error = refused.value
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    # closed before being accepted: a 403 to a browser, 1008 (policy) in-process
    assert isinstance(error, WebSocketDisconnect)
    assert error.code == 1008


async def _refused(app: Starlette, origin: str, token: str, host: str | None = None) -> int:
    with pytest.raises(BaseException) as refused:  # noqa: PT011 - unwrapped below
        await _handshake(app, origin, token, host)
    error = refused.value
    while isinstance(error, BaseExceptionGroup):
        error = error.exceptions[0]
    assert isinstance(error, WebSocketDisconnect)
    return int(error.code)


async def test_an_allowed_handshake_remembered_lets_no_other_one_in(
    guarded: Starlette, workspace: Workspace
) -> None:
    """The view remembers the (Origin, Host) pairs it allowed (compat.ws_origin): the
    same pair is allowed again, and a pair that differs in either is checked afresh."""
    token = workspace.token
    for _ in range(2):
        assert await _handshake(guarded, ALLOWED, token) == "connection_ack"
        assert await _handshake(guarded, "http://testserver", token) == "connection_ack"
        assert await _refused(guarded, FOREIGN, token) == 1008
        # the same Origin, sent to another host: not the same origin any more
        assert await _refused(guarded, "http://testserver", token, "evil.example.net") == 1008


def test_remembered_handshakes_are_bounded_and_refusals_never_remembered() -> None:
    """compat.ws_origin keeps at most REMEMBERED allowed (Origin, Host) pairs (made-up
    Host headers cannot grow it without end) and asks the stock check again for a pair it
    refused, every time."""
    from strawberry.http.async_base_view import AsyncBaseHTTPView

    from seqgql.compat import ws_origin

    asked: list[str] = []

    class Stock:
        is_websocket_origin_allowed = AsyncBaseHTTPView.is_websocket_origin_allowed

        def get_websocket_headers(self, request: dict[str, str]) -> dict[str, str]:
            return request

        def _check_websocket_origin(self, request: dict[str, str]) -> bool:
            asked.append(request["host"])
            return not request["host"].startswith("evil")

    class View(ws_origin.RememberedOrigins, Stock):
        pass

    view = View()
    for n in range(ws_origin.REMEMBERED + 5):
        assert view._check_websocket_origin({"origin": "https://a.example", "host": f"h{n}"})
    assert len(view._allowed_handshakes or ()) <= ws_origin.REMEMBERED
    asked.clear()
    last = {"origin": "https://a.example", "host": f"h{ws_origin.REMEMBERED + 4}"}
    assert view._check_websocket_origin(last) and asked == []  # remembered
    for _ in range(2):
        assert not view._check_websocket_origin({"origin": "https://a.example", "host": "evil"})
    assert asked == ["evil", "evil"]
