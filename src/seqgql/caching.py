"""A bounded least-recently-used map. Caches are owned by the object whose life they
share (the database, the feed hub of an app), never kept at module level."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Generic, TypeVar

import orjson

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``maxsize`` entries; the least recently used goes first."""

    def __init__(self, maxsize: int) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._entries: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The entry for ``key``, made with ``make()`` (and kept) when there is none."""
        try:
            value = self._entries[key]
        except KeyError:
            value = self._entries[key] = make()
            if len(self._entries) > self.maxsize:
                self._entries.popitem(last=False)
            return value
        self._entries.move_to_end(key)
        return value

    def get(self, key: K) -> V | None:
        """The entry for ``key`` (now the most recently used), or None."""
        value = self._entries.get(key)
        if value is not None:
            self._entries.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        """Keep ``value`` for ``key``; the least recently used goes past ``maxsize``."""
        self._entries[key] = value
        self._entries.move_to_end(key)
        if len(self._entries) > self.maxsize:
            self._entries.popitem(last=False)


def json_key(value: object) -> bytes | None:
    """``value``'s JSON text, to keep what is made from it by (a request's variables);
    None for what orjson does not write (an int over 64 bits, say)."""
    try:
        return orjson.dumps(value)
    except TypeError:
        return None
