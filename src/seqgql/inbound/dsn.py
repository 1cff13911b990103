"""Delivery status notifications: a message telling that one of ours was not delivered
(for good: a bounce) or not yet (a delay).

Standard reports (RFC 3464: ``multipart/report; report-type=delivery-status``, as Postfix,
Gmail, Microsoft 365 and most servers send them) are read field by field: a recipient
whose ``Action`` is ``failed`` with a ``Status`` of 5.x.x (or none) bounced; ``delayed``,
or ``failed`` with 4.x.x, is a delay. Bounces in other formats (Exim's "Mail delivery
failed", Microsoft's "Undeliverable:", Gmail's text notices, Yahoo's "Failure Notice",
qmail, sendmail) are recognised by their sender, subject and wording, and their failed
recipients read from ``X-Failed-Recipients`` or the text."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import Message

from seqgql.inbound.reading import ADDRESS, addresses, body_text, clean, fold, header, headers

# How much of an attached original is kept to look for our Message-IDs in.
MAX_ORIGINAL_CHARS = 64_000
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP_CODE = re.compile(r"\b([45])[0-9]{2}[ -]")
_DAEMON = re.compile(
    r"^(mailer-daemon|mailer_daemon|mail-daemon|mailerdaemon|postmaster|"
    r"microsoftexchange[0-9a-f]*|mail delivery (sub)?system|bounces?)$"
)
# subjects of bounces (folded), and whether each says the failure is permanent
_SUBJECTS: tuple[tuple[str, bool], ...] = (
    ("delivery status notification (failure)", True),
    ("delivery status notification (delay)", False),
    ("delayed mail (still being retried)", False),
    ("undelivered mail returned to sender", True),
    ("mail delivery failed", True),
    ("mail delivery failure", True),
    ("delivery failure", True),
    ("failure notice", True),
    ("undeliverable", True),
    ("unzustellbar", True),
    ("non remis", True),
    ("onbestelbaar", True),
    ("no se puede entregar", True),
    ("non recapitabile", True),
    ("returned mail", True),
    ("message not delivered", True),
    ("delivery has failed", True),
    ("warning: message", False),  # Exim: "Warning: message 1abc-00 delayed 24 hours"
    ("delivery delayed", False),
    ("delayed delivery", False),
)
_PERMANENT_PHRASES = (
    "could not be delivered",
    "couldn't be delivered",
    "wasn't delivered",
    "was not delivered",
    "delivery has failed",
    "failed permanently",
    "permanent error",
    "permanent failure",
    "unable to deliver",
    "the following address(es) failed",
    "address couldn't be found",
    "address not found",
    "user unknown",
    "does not exist",
    "no such user",
    "mailbox unavailable",
    "recipient address rejected",
)
_DELAY_PHRASES = (
    "has been delayed",
    "have been delayed",
    "not yet been delivered",
    "has not been delivered yet",
    "will retry",
    "will keep trying",
    "will continue to try",
    "still trying",
    "delivery is delayed",
    "delayed delivery",
    "temporary failure",
)


@dataclass(frozen=True, slots=True)
class DeliveryReport:
    """A message of ours not delivered: for good (``permanent``) or not yet."""

    permanent: bool
    recipients: tuple[str, ...]  # the addresses it failed for, lower-cased
    evidence: str  # what decided it, for the activity
    original: str  # the attached original (or the notice's text): where our ids are


def delivery_report(message: Message) -> DeliveryReport | None:
    """The notification ``message`` is, or None when it is not one."""
    if message.get_content_type() == "multipart/report":
        report = _standard(message)
        if report is not None:
            return report
    return _informal(message)


def _standard(message: Message) -> DeliveryReport | None:
    """An RFC 3464 report: its per-recipient fields decide."""
    parts = _parts(message)
    status_part = next(
        (p for p in parts if p.get_content_type() in ("message/delivery-status",
                                                      "message/global-delivery-status")),
        None,
    )  # fmt: skip
    if status_part is None:
        return None
    failed: list[tuple[str, str, str, str]] = []  # (recipient, action, status, diagnostic)
    delayed: list[tuple[str, str, str, str]] = []
    for block in _blocks(status_part):
        recipient = _recipient(block)
        action = fold(block.get("action", ""))
        status = _STATUS.search(block.get("status", ""))
        code = status.group(0) if status else ""
        diagnostic = " ".join(block.get("diagnostic-code", "").split())[:200]
        if not recipient:
            continue
        if action == "failed" and not code.startswith("4"):
            failed.append((recipient, action, code, diagnostic))
        elif action in ("failed", "delayed"):
            delayed.append((recipient, action, code, diagnostic))
    chosen, permanent = (failed, True) if failed else (delayed, False)
    if not chosen:
        return None
    recipient, action, code, diagnostic = chosen[0]
    evidence = (
        f"{'bounce' if permanent else 'delayed'}: multipart/report delivery-status; "
        f"Action: {action}; Status: {code or 'none'}; Final-Recipient: {recipient}"
        + (f"; Diagnostic-Code: {diagnostic}" if diagnostic else "")
    )
    original = "\n".join(_text_of(p) for p in parts if p is not status_part)
    return DeliveryReport(
        permanent, tuple(dict.fromkeys(r for r, *_ in chosen)), evidence,
        original[:MAX_ORIGINAL_CHARS],
    )  # fmt: skip


def _parts(message: Message) -> list[Message]:
    payload = message.get_payload()
    return [p for p in payload if isinstance(p, Message)] if isinstance(payload, list) else []


def _blocks(part: Message) -> list[dict[str, str]]:
    """The field blocks of a delivery-status part (per message, then per recipient), each
    as lower-cased field name -> value, read from its text: parsers disagree on its shape."""
    payload = part.get_payload()
    if isinstance(payload, list):
        text = "\n\n".join(
            "\n".join(f"{k}: {v}" for k, v in p.items()) for p in payload if isinstance(p, Message)
        )
    else:
        text = _decoded(part)
    blocks: list[dict[str, str]] = []
    for chunk in re.split(r"\r?\n\s*\r?\n", text):
        fields: dict[str, str] = {}
        name = ""
        for line in chunk.splitlines():
            if line[:1] in (" ", "\t") and name:
                fields[name] += " " + line.strip()
            elif ":" in line:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                fields[name] = value.strip()
        if fields:
            blocks.append(fields)
    return blocks


def _decoded(part: Message) -> str:
    try:
        payload = part.get_payload(decode=True)
    except Exception:
        payload = None
    if isinstance(payload, bytes):
        return clean(payload.decode("utf-8", errors="replace"))
    raw = part.get_payload()
    return clean(raw) if isinstance(raw, str) else ""


def _recipient(block: dict[str, str]) -> str:
    for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
        value = block.get(name, "")
        found: list[str] = ADDRESS.findall(value.partition(";")[2] or value)
        if found:
            return found[0].lower()
    return ""


def _text_of(part: Message) -> str:
    """An attached original (message/rfc822, text/rfc822-headers) as text."""
    try:
        return clean(part.as_string())[:MAX_ORIGINAL_CHARS]
    except Exception:
        return _decoded(part)[:MAX_ORIGINAL_CHARS]


def _informal(message: Message) -> DeliveryReport | None:
    """A bounce in one of the common formats that are not RFC 3464 reports."""
    subject = header(message, "Subject")
    folded_subject = fold(subject)
    from_value = header(message, "From")
    local = fold(from_value.partition("<")[2].partition("@")[0] if "<" in from_value
                 else from_value.partition("@")[0])  # fmt: skip
    display = fold(from_value.partition("<")[0].strip().strip('"'))
    failed_header = [a for value in headers(message, "X-Failed-Recipients")
                     for a in addresses(value)]  # fmt: skip
    by_sender = bool(_DAEMON.match(local) or _DAEMON.match(display))
    subject_hit = next(((s, p) for s, p in _SUBJECTS if s in folded_subject), None)
    if not (by_sender or subject_hit or failed_header):
        return None
    text = body_text(message)
    folded_text = fold(text)
    permanent_phrase = next((p for p in _PERMANENT_PHRASES if p in folded_text), None)
    delay_phrase = next((p for p in _DELAY_PHRASES if p in folded_text), None)
    if not (subject_hit or permanent_phrase or delay_phrase or failed_header):
        return None
    if not (by_sender or failed_header) and not (permanent_phrase or delay_phrase):
        return None  # a bounce-like subject alone, from a person: not a notice
    codes = [m.group(0) for m in _STATUS.finditer(text)]
    permanent = _is_permanent(subject_hit, permanent_phrase, delay_phrase, codes, text)
    recipients = tuple(dict.fromkeys(failed_header or _recipients_in(text, message)))
    if not recipients:
        return None
    reasons = []
    if subject_hit:
        reasons.append(f"subject {subject[:120]!r}")
    if failed_header:
        reasons.append(f"X-Failed-Recipients: {', '.join(failed_header)[:200]}")
    elif by_sender:
        reasons.append(f"from {from_value[:120]}")
    if codes:
        reasons.append(f"status {codes[0]}")
    phrase = permanent_phrase if permanent else delay_phrase
    if phrase:
        reasons.append(f"text {phrase!r}")
    evidence = f"{'bounce' if permanent else 'delayed'}: " + "; ".join(reasons)
    attached = "\n".join(
        _text_of(p) for p in message.walk() if p.get_content_maintype() == "message"
    )
    return DeliveryReport(
        permanent, recipients, evidence, (text + "\n" + attached)[:MAX_ORIGINAL_CHARS]
    )


def _is_permanent(
    subject_hit: tuple[str, bool] | None,
    permanent_phrase: str | None,
    delay_phrase: str | None,
    codes: list[str],
    text: str,
) -> bool:
    if any(c.startswith("5") for c in codes):
        return True
    if codes and all(c.startswith("4") for c in codes):
        return False
    if subject_hit is not None and not subject_hit[1]:
        return False
    if delay_phrase and not permanent_phrase:
        return False
    smtp = _SMTP_CODE.findall(text)
    return not (smtp and all(code == "4" for code in smtp) and not permanent_phrase)


_ID_LINES = re.compile(r"^\s*(?:message-id|in-reply-to|references)\s*:.*$", re.I | re.M)


def _recipients_in(text: str, message: Message) -> list[str]:
    """The addresses a notice's text names, but for its own sender and receivers (and
    the Message-IDs of a copy of the original, which look like addresses)."""
    own = {a for name in ("From", "To", "Cc", "Reply-To", "Return-Path")
           for a in addresses(header(message, name))}  # fmt: skip
    text = _ID_LINES.sub("", text[:20_000])
    return [a.lower() for a in ADDRESS.findall(text) if a.lower() not in own][:20]
