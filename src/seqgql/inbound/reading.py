"""Reading a message of any shape: headers that may be broken, addresses, the text a
person wrote (plain text preferred, else HTML made text), and text folded for matching
phrases in several languages."""

from __future__ import annotations

import email
import email.policy
import html
import re
import unicodedata
from datetime import UTC, datetime
from email.message import EmailMessage, Message
from email.utils import getaddresses, parsedate_to_datetime

# The most of a body read as text: phrases and dates are near the top.
MAX_TEXT_CHARS = 100_000
ADDRESS = re.compile(
    r"[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+"
)


def parse(raw: bytes) -> EmailMessage:
    """The message in ``raw`` (never raises: whatever is not MIME reads as a body)."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def header(message: Message, name: str) -> str:
    """A header's value as text ('' when missing or unreadable), NULs removed."""
    try:
        value = message.get(name)
    except Exception:  # a header the policy cannot parse: read its raw form
        value = _raw_header(message, name)
    return clean("" if value is None else str(value)).strip()


def headers(message: Message, name: str) -> list[str]:
    """Every value of a header."""
    try:
        values = message.get_all(name) or []
    except Exception:
        values = [_raw_header(message, name)]
    return [clean(str(v)).strip() for v in values if v is not None]


def _raw_header(message: Message, name: str) -> str:
    for key, value in message.raw_items() if hasattr(message, "raw_items") else []:
        if key.lower() == name.lower():
            return str(value)
    return ""


def clean(text: str) -> str:
    """``text`` without NUL characters (which no database column takes)."""
    return text.replace("\x00", "")


def addresses(value: str) -> list[str]:
    """The email addresses of a header value, lower-cased."""
    try:
        pairs = getaddresses([value])
    except Exception:
        pairs = []
    found = [addr.strip().lower() for _, addr in pairs if "@" in addr]
    return found or [a.lower() for a in ADDRESS.findall(value)]


def sender(message: Message) -> str | None:
    """The From address, lower-cased (the Sender's, or Return-Path's, when From has none)."""
    for name in ("From", "Sender", "Return-Path"):
        found = addresses(header(message, name))
        if found:
            return found[0]
    return None


def sent_at(message: Message) -> datetime | None:
    """The Date header as an aware moment (UTC when it has no zone), None if unreadable."""
    value = header(message, "Date")
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def part_text(part: Message) -> str:
    """A text part's content, decoded (its charset if known, else UTF-8, else Latin-1)."""
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return clean(raw if isinstance(raw, str) else "")
    charset = _charset(part)
    try:
        text = payload.decode(charset, errors="replace")
    except LookupError:  # an unknown charset
        text = payload.decode("utf-8", errors="replace")
    return clean(text)


def _charset(part: Message) -> str:
    try:
        return part.get_content_charset() or "utf-8"
    except Exception:
        return "utf-8"


def body_text(message: Message) -> str:
    """What the sender wrote, as text: the first text/plain part that is not an
    attachment, else the first text/html made text; never an attached message's."""
    plain = html_text = None
    for part in _own_parts(message):
        kind = part.get_content_type()
        if _is_attachment(part):
            continue
        if kind == "text/plain" and plain is None:
            plain = part_text(part)
        elif kind == "text/html" and html_text is None:
            html_text = text_of_html(part_text(part))
    text = plain if plain is not None and plain.strip() else html_text or plain or ""
    return text[:MAX_TEXT_CHARS]


def _own_parts(message: Message) -> list[Message]:
    """The message's parts, not descending into attached messages (message/*)."""
    if not message.is_multipart():
        return [message]
    found: list[Message] = []
    payload = message.get_payload()
    for part in payload if isinstance(payload, list) else []:
        if not isinstance(part, Message):
            continue
        if part.get_content_maintype() == "message":
            continue
        found.extend(_own_parts(part))
    return found


def _is_attachment(part: Message) -> bool:
    try:
        return (part.get_content_disposition() or "") == "attachment"
    except Exception:
        return False


_TAGS = re.compile(r"<(script|style)\b.*?</\1\s*>|<[^>]*>", re.IGNORECASE | re.DOTALL)
_BREAKS = re.compile(r"<\s*(br|/p|/div|/tr|/li|/h[1-6])\b[^>]*>", re.IGNORECASE)
_QUOTE_BLOCK = re.compile(r"<blockquote\b.*?</blockquote\s*>", re.IGNORECASE | re.DOTALL)


def text_of_html(markup: str) -> str:
    """HTML as the text it shows, line breaks kept; quoted blocks dropped."""
    markup = _QUOTE_BLOCK.sub("\n", markup[: MAX_TEXT_CHARS * 4])
    markup = _BREAKS.sub("\n", markup)
    text = html.unescape(_TAGS.sub("", markup))
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def fold(text: str) -> str:
    """Lower-cased, accents removed, spaces collapsed: what phrases are matched on
    ("Réponse automatique" and "reponse  automatique" fold alike)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.split())
