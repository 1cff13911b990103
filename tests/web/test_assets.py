"""The package's static assets over HTTP (``seqgql.web.assets``), through the real app:
each at a content-hashed URL with long-lived immutable caching, its media type, gzip for a
client that accepts it, 304 for a known ETag; anything else — an unhashed or forged name,
a path that climbs out with "..", NUL bytes, encodings of them — is a 404 that reads no
file."""

from __future__ import annotations

import gzip
import hashlib
import re
from collections.abc import AsyncIterator
from importlib import resources

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from seqgql.app import create_app
from seqgql.settings import Settings
from seqgql.web.assets import (
    IMMUTABLE,
    AssetStore,
    accepts_gzip,
    content_security_policy,
    package_assets,
    sha256_source,
)

STATIC = resources.files("seqgql.web") / "static"
START = "graphiql/start.js"


@pytest.fixture(scope="module")
def web_app() -> Starlette:
    """The app as `serve` builds it; asset requests touch no database (none is opened)."""
    return create_app(Settings(database_url="sqlite:///unused-by-assets.db", run_engine=False))


@pytest.fixture
async def http(web_app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=web_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
        yield client


async def raw_get(app: Starlette, path: str, method: str = "GET") -> int:
    """The status of a request whose path reaches the app exactly as given (what a
    server hands over after decoding %xx: "..", NUL bytes and all)."""
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode("utf-8", "surrogateescape"),
        "query_string": b"", "headers": [(b"host", b"127.0.0.1")], "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80), "root_path": "",
    }  # fmt: skip
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return int(sent[0]["status"])


def test_every_file_has_a_url_named_by_its_content() -> None:
    store = package_assets()
    body = (STATIC / START).read_bytes()
    digest = hashlib.sha256(body).hexdigest()[:12]
    assert store.url_for(START) == f"/assets/graphiql/start.{digest}.js"
    assert set(store.urls()) >= {START, "graphiql/graphiql.min.js", "graphiql/LICENSES.txt"}
    with pytest.raises(LookupError, match=r"no asset named 'graphiql/nope\.js'"):
        store.url_for("graphiql/nope.js")


def test_a_changed_file_gets_a_new_url() -> None:
    before = AssetStore({"app/main.js": b"one"}).url_for("app/main.js")
    after = AssetStore({"app/main.js": b"two"}).url_for("app/main.js")
    assert before != after and re.fullmatch(r"/assets/app/main\.[0-9a-f]{12}\.js", after)


async def test_an_asset_is_served_immutable_with_its_type(http: httpx.AsyncClient) -> None:
    url = package_assets().url_for(START)
    answer = await http.get(url, headers={"accept-encoding": "identity"})
    assert answer.status_code == 200
    assert answer.content == (STATIC / START).read_bytes()
    assert answer.headers["cache-control"] == IMMUTABLE
    assert answer.headers["content-type"] == "text/javascript; charset=utf-8"
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert "content-encoding" not in answer.headers
    css = await http.get(package_assets().url_for("graphiql/page.css"))
    assert css.headers["content-type"] == "text/css; charset=utf-8"


async def test_gzip_for_a_client_that_accepts_it(http: httpx.AsyncClient) -> None:
    url = package_assets().url_for("graphiql/graphiql.min.js")
    raw = (STATIC / "graphiql/graphiql.min.js").read_bytes()
    request = http.build_request("GET", url, headers={"accept-encoding": "gzip, br"})
    answer = await http.send(request, stream=True)
    compressed = await answer.aread()  # httpx decodes: the body is the file
    assert answer.headers["content-encoding"] == "gzip"
    assert answer.headers["vary"].startswith("Accept-Encoding")
    assert int(answer.headers["content-length"]) < len(raw) / 3
    assert compressed == raw
    refused = await http.get(url, headers={"accept-encoding": "gzip;q=0, identity"})
    assert "content-encoding" not in refused.headers and refused.content == raw
    assert gzip.decompress(package_assets().asset("graphiql/graphiql.min.js").gzipped() or b"")


@pytest.mark.parametrize(
    ("header", "gzip_ok"),
    [("gzip", True), ("GZIP;q=0.5", True), ("*", True), ("gzip;q=0", False),
     ("br, deflate", False), ("", False), ("gzip;q=nonsense", False)],
)  # fmt: skip
def test_accept_encoding_is_read_with_its_weights(header: str, gzip_ok: bool) -> None:
    assert accepts_gzip(header) is gzip_ok


async def test_head_has_the_headers_and_no_body(http: httpx.AsyncClient) -> None:
    url = package_assets().url_for(START)
    answer = await http.head(url, headers={"accept-encoding": "identity"})
    assert answer.status_code == 200 and answer.content == b""
    assert int(answer.headers["content-length"]) == len((STATIC / START).read_bytes())
    assert answer.headers["cache-control"] == IMMUTABLE


async def test_a_known_etag_answers_304(http: httpx.AsyncClient) -> None:
    url = package_assets().url_for(START)
    first = await http.get(url, headers={"accept-encoding": "identity"})
    etag = first.headers["etag"]
    again = await http.get(url, headers={"if-none-match": etag, "accept-encoding": "identity"})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag
    other = await http.get(url, headers={"if-none-match": '"0123456789ab"'})
    assert other.status_code == 200


async def test_other_methods_are_refused(http: httpx.AsyncClient) -> None:
    answer = await http.post(package_assets().url_for(START), content=b"x")
    assert answer.status_code == 405


@pytest.mark.parametrize(
    "path",
    [
        "/assets/graphiql/start.js",  # the bare name: only hashed URLs are served
        "/assets/graphiql/start.000000000000.js",  # a forged hash
        "/assets/graphiql/nope.0123456789ab.js",
        "/assets/",
        "/assets/../app.py",
        "/assets/graphiql/../../app.py",
        "/assets/graphiql/..%2f..%2fapp.py",
        "/assets/%2e%2e/%2e%2e/settings.py",
        "/assets/graphiql/start.{hash}.js\x00",
        "/assets/graphiql/start.{hash}.js\x00.png",
        "/assets/graphiql\\..\\..\\app.py",
        "/assets//etc/passwd",
        "/assets/graphiql/start.{hash}.js/",
        "/assets/GRAPHIQL/start.{hash}.js",
    ],
)
async def test_anything_but_a_hashed_url_is_404(web_app: Starlette, path: str) -> None:
    digest = package_assets().asset(START).digest
    assert await raw_get(web_app, path.replace("{hash}", digest)) == 404
    assert await raw_get(web_app, path.replace("{hash}", digest), "HEAD") == 404


async def test_the_hashed_url_itself_is_found_the_same_way(web_app: Starlette) -> None:
    """The check above would pass if nothing were ever found."""
    assert await raw_get(web_app, package_assets().url_for(START)) == 200


def test_the_policy_allows_no_inline_script() -> None:
    policy = content_security_policy(host="127.0.0.1:8000")
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["connect-src"] == "'self' ws://127.0.0.1:8000 wss://127.0.0.1:8000"
    assert "unsafe" not in policy
    hashed = content_security_policy(script_sources=[sha256_source('{"imports": {}}')])
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'", hashed)


@pytest.mark.parametrize("host", ["evil.com; script-src *", "a b", "x'", "", "[::1"])
def test_a_strange_host_header_adds_no_websocket_source(host: str) -> None:
    policy = content_security_policy(host=host)
    assert "ws:" not in policy and "script-src 'self';" in policy
