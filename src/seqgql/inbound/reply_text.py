"""The reply a person wrote, without the history quoted below it.

``mail-parser-reply`` cuts at the headers mail programs put above a quote ("On ... wrote:",
Outlook's "From: ... Sent:", "Am ... schrieb", "Le ... a écrit"...) in our seven
languages but Portuguese; what it leaves is cut again at lines it does not know (a
Portuguese "Em ... escreveu:", a forwarded message's banner, "> " quoted lines)."""

from __future__ import annotations

import re

from mailparser_reply import EmailReplyParser

from seqgql.inbound.reading import clean

# the most of a reply kept as an activity's detail
MAX_REPLY_CHARS = 4_000
_LANGUAGES = ["en", "de", "fr", "es", "it", "nl"]
_CUT = re.compile(
    r"^(?:"
    r"-{2,}\s*(?:forwarded message|original message|mensagem encaminhada|mensaje reenviado"
    r"|message transfere|message transféré|weitergeleitete nachricht|messaggio inoltrato"
    r"|doorgestuurd bericht|ursprüngliche nachricht|mensagem original|mensaje original"
    r"|messaggio originale|oorspronkelijk bericht|message d'origine)\s*-*"
    r"|em .{4,120} escreveu:?"
    r"|on .{4,120} wrote:?"
    r"|begin forwarded message:?"
    r"|_{8,}"
    r"|>.*"
    r")\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def reply_text(body: str) -> str:
    """The newest part of ``body``: what its writer wrote above the quoted history."""
    text = clean(body).replace("\r\n", "\n").strip()
    if not text:
        return ""
    try:
        parsed = EmailReplyParser(languages=_LANGUAGES).parse_reply(text)
        latest = parsed if isinstance(parsed, str) else None
    except Exception:  # the library on text it chokes on: cut by our own rules only
        latest = None
    if latest is None or not latest.strip():
        latest = text
    cut = _CUT.search(latest)
    if cut is not None and latest[: cut.start()].strip():
        latest = latest[: cut.start()]
    return latest.strip()[:MAX_REPLY_CHARS]
