"""Persisted queries: Apollo's automatic persisted queries (APQ), and an allow-list mode.

APQ: a client sends ``extensions.persistedQuery = {version: 1, sha256Hash}`` without the
query; a server that knows the hash runs the query it stands for, one that does not
answers ``PERSISTED_QUERY_NOT_FOUND`` and the client sends hash and query together, which
registers it (the hash must be the query's SHA-256). Each process keeps the queries it
was given (``MAX_QUERIES``, least recently used first out); another replica asks for the
query once.

Allow-list mode (``PERSISTED_QUERIES_ONLY``): only the documents of the manifest file
(``PERSISTED_QUERIES_FILE``, a JSON object of sha256 hash -> document) run, by hash or
as text; nothing registers; anything else answers ``PERSISTED_QUERY_NOT_ALLOWED``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from graphql import GraphQLError

from seqgql.caching import LRU

MAX_QUERIES = 5_000


class PersistedQueryError(GraphQLError):
    """A persisted-query answer (the client knows what to do with each code)."""


def _sha256(query: str) -> str:
    return hashlib.sha256(query.encode()).hexdigest()


def _requested_hash(extensions: Any) -> str | None:
    if not isinstance(extensions, dict):
        return None
    persisted = extensions.get("persistedQuery")
    if persisted is None:
        return None
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise PersistedQueryError(
            "persistedQuery must be {version: 1, sha256Hash}",
            extensions={"code": "PERSISTED_QUERY_NOT_SUPPORTED"},
        )
    digest = persisted.get("sha256Hash")
    if not isinstance(digest, str) or len(digest) != 64:
        raise PersistedQueryError(
            "persistedQuery.sha256Hash must be a SHA-256 hex digest",
            extensions={"code": "BAD_REQUEST"},
        )
    return digest.lower()


class PersistedQueries:
    def __init__(self, *, only: bool = False, manifest: dict[str, str] | None = None) -> None:
        self.only = only
        self.allowed = {k.lower(): v for k, v in (manifest or {}).items()}
        self._known: LRU[str, str] = LRU(maxsize=MAX_QUERIES)

    @classmethod
    def from_file(cls, path: str | None, *, only: bool) -> PersistedQueries:
        """The manifest at ``path`` (JSON: hash -> document), checked: each hash must be
        its document's SHA-256."""
        manifest: dict[str, str] = {}
        if path:
            loaded = json.loads(Path(path).read_text())
            if not isinstance(loaded, dict) or not all(
                isinstance(v, str) and isinstance(k, str) and _sha256(v) == k.lower()
                for k, v in loaded.items()
            ):
                raise ValueError(f"{path}: expected a JSON object of sha256 hash -> document")
            manifest = loaded
        if only and not manifest:
            raise ValueError("PERSISTED_QUERIES_ONLY needs PERSISTED_QUERIES_FILE")
        return cls(only=only, manifest=manifest)

    def resolve(self, query: str | None, extensions: Any) -> str | None:
        """The document to run, or a ``PersistedQueryError`` raised."""
        digest = _requested_hash(extensions)
        if self.only:
            return self._allowed(query, digest)
        if digest is None:
            return query
        if query is None:
            known = self._known.get(digest)
            if known is None:
                raise PersistedQueryError(
                    "PersistedQueryNotFound", extensions={"code": "PERSISTED_QUERY_NOT_FOUND"}
                )
            return known
        if _sha256(query) != digest:
            raise PersistedQueryError(
                "the query's SHA-256 is not persistedQuery.sha256Hash",
                extensions={"code": "BAD_REQUEST"},
            )
        self._known.put(digest, query)
        return query

    def _allowed(self, query: str | None, digest: str | None) -> str:
        if digest is None and query is not None:
            digest = _sha256(query)
        document = self.allowed.get(digest or "")
        if document is None or (query is not None and query != document):
            raise PersistedQueryError(
                "only the persisted queries of this server run here",
                extensions={"code": "PERSISTED_QUERY_NOT_ALLOWED"},
            )
        return document
