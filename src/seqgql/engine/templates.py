"""Step templates: {{first_name}}-style placeholders filled from the contact."""

from __future__ import annotations

import re
from collections.abc import Mapping

_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")


def render(template: str, values: Mapping[str, str]) -> str:
    """Fill each {{name}} with its value; unknown names are left as written."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), template)
