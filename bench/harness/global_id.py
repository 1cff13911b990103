"""Relay global ids as the API gives them out: base64 of "Type:database id"."""

from __future__ import annotations

import base64


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def from_global_id(value: str, expected: str) -> int:
    """The database id in ``value``, which must be the id of an ``expected``."""
    type_name, _, pk = base64.b64decode(value.encode(), validate=True).decode().partition(":")
    if type_name != expected or not pk.isdigit():
        raise ValueError(f"{value!r} is not the id of a {expected}")
    return int(pk)
