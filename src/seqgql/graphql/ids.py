"""Relay global ids: base64 of "Type:database id"."""

from __future__ import annotations

import base64
import binascii

NODE_TYPES = ("Enrollment", "Sequence", "Contact", "Group", "User", "Activity", "BulkOperation")


class InvalidId(ValueError):
    pass


def to_global_id(type_name: str, pk: int) -> str:
    return base64.b64encode(f"{type_name}:{pk}".encode()).decode()


def parse_global_id(value: str) -> tuple[str, int]:
    try:
        type_name, _, raw = base64.b64decode(value.encode(), validate=True).decode().partition(":")
        pk = int(raw)
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidId(f"{value!r} is not an id this API gave out") from exc
    if type_name not in NODE_TYPES or pk <= 0:
        raise InvalidId(f"{value!r} is not an id this API gave out")
    return type_name, pk


def from_global_id(value: str, expected: str) -> int:
    type_name, pk = parse_global_id(value)
    if type_name != expected:
        raise InvalidId(f"{value!r} is the id of a {type_name}, not of a {expected}")
    return pk
