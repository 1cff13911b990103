"""Small functions written as Python source at run time, for the hottest loops (a page's
rows): one function per statement or document shape, its steps spelled out instead of a
loop over a list of steps. A generated function runs 2-3x faster than the equivalent
interpreter of steps (bench/README.md, issue 15); the same technique as ``dataclasses``
and ``collections.namedtuple``.

What goes into the source is built only from names this program chose (column indexes,
GraphQL names the parser accepted, which are ``[_A-Za-z][_0-9A-Za-z]*``) and from
``repr`` of strings; every other value is passed in the function's globals by name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z_0-9]*\Z")


def generated_function(name: str, source: str, names: Mapping[str, Any]) -> Callable[..., Any]:
    """The function ``name`` that ``source`` defines, run with ``names`` as its globals."""
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a function name: {name!r}")
    scope = dict(names)
    exec(compile(source, f"<generated {name}>", "exec"), scope)
    found = scope[name]
    if not callable(found):
        raise TypeError(f"{name} is not a function")
    return found  # type: ignore[no-any-return]


def indented(lines: list[str], depth: int = 1) -> str:
    """Lines of a function's body, indented ``depth`` levels."""
    pad = "    " * depth
    return "".join(f"{pad}{line}\n" for line in lines)
