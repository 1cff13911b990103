"""Validation rules of our own, run with graphql-core's before anything executes."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, StringValueNode, ValidationRule


class NoNulInText(ValidationRule):
    """No string in a document may hold a NUL character (``"\\u0000"``): no text can
    store one. (Variables are checked as the request arrives: ``seqgql.gateway``.)"""

    def enter_string_value(self, node: StringValueNode, *_args: Any) -> None:
        if "\x00" in node.value:
            self.report_error(
                GraphQLError(
                    "a string holds a NUL character (\\u0000), which no text may hold",
                    node,
                    extensions={"code": "INVALID_TEXT"},
                )
            )
