"""Static assets served from the package: the one definition of how a page's files
(scripts, styles, fonts, images) reach a browser.

``AssetStore`` reads every file of a package folder once, at startup, and serves each at
a content-hashed URL (``/assets/graphiql/graphiql.min.3f2a9c1b0d4e.js``) with
``Cache-Control: public, max-age=31536000, immutable``, its media type, a strong ETag
(``If-None-Match`` answers 304) and, where the client accepts it, gzip (compressed once,
on first request, and kept). A page names its files with ``url_for(name)``. Requests are
answered from a dictionary of the hashed URLs: no path is ever joined onto the file
system, so ``..``, NUL bytes or encodings of them find nothing (404).

``content_security_policy`` builds the strict policy pages carry: scripts from this
origin only (plus the hashes of inline scripts a page declares), no ``unsafe-inline``
script, no ``eval``; websockets to the page's own host.
"""

from __future__ import annotations

import base64
import functools
import gzip
import hashlib
import mimetypes
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

ASSETS_PREFIX = "/assets"
IMMUTABLE = "public, max-age=31536000, immutable"
HASH_LENGTH = 12  # hex digits of the SHA-256 in a URL: 48 bits, per file of one release
# exact types for what pages load (the platform's mimetypes table varies between systems)
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".woff2": "font/woff2",
    ".woff": "font/woff",
    ".txt": "text/plain; charset=utf-8",
    ".html": "text/html; charset=utf-8",
}
COMPRESSIBLE = (".js", ".mjs", ".css", ".json", ".map", ".svg", ".txt", ".html", ".ico")


@dataclass(slots=True)
class Asset:
    """One file: its name in the folder (``graphiql/graphiql.min.js``), its URL, bytes."""

    name: str
    url: str
    body: bytes
    media_type: str
    digest: str  # hex SHA-256 prefix, in the URL and the ETag
    _gzipped: bytes | None = field(default=None, repr=False)

    @property
    def etag(self) -> str:
        return f'"{self.digest}"'

    @property
    def gzip_etag(self) -> str:
        return f'"{self.digest}.gz"'

    @property
    def compressible(self) -> bool:
        return self.name.endswith(COMPRESSIBLE)

    def gzipped(self) -> bytes | None:
        """The gzip form (made once), or None where it would not be smaller."""
        if not self.compressible:
            return None
        if self._gzipped is None:
            self._gzipped = gzip.compress(self.body, compresslevel=9, mtime=0)
        return self._gzipped if len(self._gzipped) < len(self.body) else None


def hashed_url(name: str, digest: str, prefix: str = ASSETS_PREFIX) -> str:
    """``graphiql/graphiql.min.js`` -> ``/assets/graphiql/graphiql.min.<digest>.js``."""
    folder, _, filename = name.rpartition("/")
    stem, dot, extension = filename.rpartition(".")
    hashed = f"{stem}.{digest}.{extension}" if dot else f"{filename}.{digest}"
    return f"{prefix}/{folder + '/' if folder else ''}{hashed}"


def media_type_of(name: str) -> str:
    extension = "." + name.rpartition(".")[2].lower()
    return MEDIA_TYPES.get(extension) or mimetypes.guess_type(name)[0] or "application/octet-stream"


def accepts_gzip(accept_encoding: str | None) -> bool:
    """Whether an ``Accept-Encoding`` header accepts gzip (``gzip;q=0`` refuses it)."""
    for part in (accept_encoding or "").split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip().lower() not in ("gzip", "*"):
            continue
        quality = re.search(r"\bq\s*=\s*([^;\s]*)", params)
        try:
            return quality is None or float(quality.group(1)) > 0
        except ValueError:  # a weight that is not a number: not an acceptance
            return False
    return False


def _files(folder: Traversable, under: str = "") -> Iterable[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        name = f"{under}{entry.name}"
        if entry.is_dir():
            yield from _files(entry, f"{name}/")
        elif entry.is_file() and not entry.name.startswith("."):
            yield name, entry


class AssetStore:
    """The files of one folder, each at its hashed URL under ``prefix``."""

    def __init__(self, files: Mapping[str, bytes], prefix: str = ASSETS_PREFIX) -> None:
        self.prefix = prefix
        self._by_name: dict[str, Asset] = {}
        self._by_url: dict[str, Asset] = {}
        for name, body in files.items():
            digest = hashlib.sha256(body).hexdigest()[:HASH_LENGTH]
            asset = Asset(name, hashed_url(name, digest, prefix), body, media_type_of(name), digest)
            self._by_name[name] = asset
            self._by_url[asset.url] = asset

    @classmethod
    def from_folder(cls, folder: Traversable, prefix: str = ASSETS_PREFIX) -> AssetStore:
        """Every file under ``folder`` (dot files left out), read now."""
        return cls({name: entry.read_bytes() for name, entry in _files(folder)}, prefix)

    def url_for(self, name: str) -> str:
        """The URL a page uses for the file ``name`` (its path in the folder)."""
        try:
            return self._by_name[name].url
        except KeyError:
            raise LookupError(f"no asset named {name!r} in the package") from None

    def asset(self, name: str) -> Asset:
        return self._by_name[name]

    def urls(self) -> dict[str, str]:
        """Every asset's name and URL (for an import map, say)."""
        return {name: asset.url for name, asset in self._by_name.items()}

    def find(self, path: str) -> Asset | None:
        """The asset a request path names exactly, if any."""
        return self._by_url.get(path)

    async def endpoint(self, request: Request) -> Response:
        """GET or HEAD of one hashed URL."""
        asset = self.find(request.url.path)
        if asset is None:
            return Response("no such asset\n", status_code=404, media_type="text/plain")
        use_gzip = accepts_gzip(request.headers.get("accept-encoding"))
        body = (asset.gzipped() if use_gzip else None) or asset.body
        compressed = body is not asset.body
        headers = {
            "cache-control": IMMUTABLE,
            "etag": asset.gzip_etag if compressed else asset.etag,
            "x-content-type-options": "nosniff",
        }
        if asset.compressible:
            headers["vary"] = "Accept-Encoding"
        if compressed:
            headers["content-encoding"] = "gzip"
        if _matches(request.headers.get("if-none-match"), asset):
            return Response(status_code=304, headers=headers)
        if request.method == "HEAD":
            headers["content-length"] = str(len(body))
            return Response(status_code=200, headers=headers, media_type=asset.media_type)
        return Response(body, headers=headers, media_type=asset.media_type)

    def routes(self) -> list[BaseRoute]:
        """The route serving every asset (GET and HEAD; other methods 405)."""
        return [Route(self.prefix + "/{path:path}", self.endpoint, methods=["GET", "HEAD"])]


def _matches(if_none_match: str | None, asset: Asset) -> bool:
    if not if_none_match:
        return False
    tags = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in tags or bool(tags & {asset.etag, asset.gzip_etag})


@functools.cache
def package_assets() -> AssetStore:
    """The files under ``seqgql/web/static/``, read once per process."""
    return AssetStore.from_folder(resources.files("seqgql.web") / "static")


def sha256_source(script: str) -> str:
    """The CSP source that allows exactly this inline script (or import map) text."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return f"'sha256-{digest}'"


_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$")


def content_security_policy(*, host: str | None = None, script_sources: Iterable[str] = ()) -> str:
    """A strict Content-Security-Policy: everything from this origin; scripts from it only
    (plus ``script_sources``, e.g. ``sha256_source(text)`` of an inline import map), never
    ``unsafe-inline`` or ``unsafe-eval``; fonts and images also as ``data:`` URLs (what
    bundled stylesheets inline, not scripts); websockets to ``host`` (the request's Host
    header, left out when it is not a plain host[:port]); no plugins, no framing, no
    ``<base>``, forms posted here only."""
    connect = ["'self'"]
    if host and _HOST.match(host):
        connect += [f"ws://{host}", f"wss://{host}"]
    directives = {
        "default-src": ["'self'"],
        "script-src": ["'self'", *script_sources],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": connect,
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())
