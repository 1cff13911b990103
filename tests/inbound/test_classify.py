"""The classifier over a corpus of real-shaped messages (tests/inbound/corpus/*.eml): what
each one is, the return date an absence gives, the reply text without its history, our
Message-IDs it answers, a notice's failed recipients, and the evidence that decided."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from seqgql.domain.kinds import InboundKind
from seqgql.inbound.classify import NotAMessage, classify
from seqgql.outbound.smtp import SentMessageRef, sent_message_refs

CORPUS = Path(__file__).parent / "corpus"
RECEIVED = datetime(2026, 11, 30, 13, 0, tzinfo=UTC)
B, D, OOO = InboundKind.BOUNCE, InboundKind.DELAYED, InboundKind.OUT_OF_OFFICE
U, R, A = InboundKind.UNSUBSCRIBE, InboundKind.REPLY, InboundKind.AUTOMATED
ADA = ("ada@acme.example.com",)


@dataclass(frozen=True)
class Expected:
    kind: InboundKind
    evidence: str  # part of the evidence
    returns: date | None = None
    text: str | None = None  # the reply text, exactly
    refs: tuple[int, ...] = (41,)  # the enrollments of our Message-IDs it names
    failed: tuple[str, ...] = ()


EXPECTED: dict[str, Expected] = {
    # delivery status notifications, permanent and transient, in the main formats
    "postfix_bounce.eml": Expected(B, "Action: failed; Status: 5.1.1", failed=ADA),
    "postfix_delayed.eml": Expected(D, "Action: delayed; Status: 4.4.1", failed=ADA),
    "gmail_bounce.eml": Expected(
        B, "Status: 5.1.1; Final-Recipient: ada@acme.example.com", failed=ADA
    ),
    "gmail_delay_text.eml": Expected(
        D, "subject 'Delivery Status Notification (Delay)'", failed=ADA
    ),
    "exchange_bounce.eml": Expected(B, "5.1.10 RESOLVER.ADR.RecipientNotFound", failed=ADA),
    "outlook_undeliverable_text.eml": Expected(
        B, "subject 'Undeliverable: Hi Ada'; from Microsoft Outlook", failed=ADA
    ),
    "exim_bounce.eml": Expected(
        B, "X-Failed-Recipients: ada@acme.example.com; status 5.1.1", failed=ADA
    ),
    "exim_delayed.eml": Expected(
        D, "status 4.7.1; text 'not yet been delivered'", refs=(), failed=ADA
    ),
    "yahoo_bounce.eml": Expected(B, "subject 'Failure Notice'", failed=ADA),
    # out-of-office answers in seven languages, with and without a return date
    "ooo_en_date.eml": Expected(
        OOO,
        "auto-reply: header Auto-Submitted: auto-replied; return date 2026-12-03 from "
        "'be back on thursday, 3 december'",
        date(2026, 12, 3),
    ),
    "ooo_en_exchange_nodate.eml": Expected(
        OOO, "header X-MS-Exchange-Inbox-Rules-Loop: ada@acme.example.com; no return date found"
    ),
    "ooo_gmail_vacation.eml": Expected(OOO, "from 'until december 8'", date(2026, 12, 9)),
    "ooo_de_date.eml": Expected(
        OOO, "header X-Autoreply: yes; return date 2026-12-07", date(2026, 12, 7)
    ),
    "ooo_de_nodate.eml": Expected(OOO, "subject 'Automatische Antwort: Hi Ada'; no return date"),
    "ooo_fr_date.eml": Expected(OOO, "from 'de retour le lundi 7 decembre'", date(2026, 12, 7)),
    "ooo_es_date.eml": Expected(OOO, "from 'regreso el 9 de diciembre'", date(2026, 12, 9)),
    "ooo_pt_date.eml": Expected(
        OOO, "header Precedence: auto_reply; return date 2026-12-05", date(2026, 12, 5)
    ),
    "ooo_it_date.eml": Expected(OOO, "from 'rientro il 10 dicembre'", date(2026, 12, 10)),
    "ooo_nl_date.eml": Expected(OOO, "from 'tot en met 4 december'", date(2026, 12, 5)),
    "ooo_nl_nodate.eml": Expected(OOO, "subject 'Afwezig'; no return date found"),
    "automated_ticket.eml": Expected(A, "header Auto-Submitted: auto-generated; not a reply"),
    # replies, their quoted history cut off
    "reply_gmail.eml": Expected(R, "reply", text="Sounds good, let's talk on Tuesday at 10."),
    "reply_outlook.eml": Expected(
        R,
        "reply",
        text="Thanks Sam, please send me the pricing sheet.\n\nAda Lovelace\nHead of Engineering",
    ),
    "reply_german.eml": Expected(
        R,
        "reply",
        text="Hallo Sam,\n\ngerne nächste Woche, am besten Dienstag.\n\nViele Grüße\nAnna",
    ),
    "reply_html_only.eml": Expected(R, "reply", text="Yes, I'm interested — call me."),
    "forwarded.eml": Expected(R, "reply", text="Adding Bob, who handles purchasing."),
    "broken_charset.eml": Expected(R, "reply", text="Call me \ufffd\ufffd on Friday."),
    "unmatched.eml": Expected(R, "reply", text="Hi, do you have a price list?", refs=()),
    # requests to stop
    "unsubscribe_reply.eml": Expected(
        U, "unsubscribe: text 'remove me'", text="Please remove me from your list."
    ),
    "unsubscribe_mailto.eml": Expected(U, "unsubscribe: subject 'unsubscribe'", refs=()),
    "unsubscribe_fr.eml": Expected(
        U, "text 'desinscrire'", text="Merci de me désinscrire de vos envois."
    ),
    "unsubscribe_de.eml": Expected(
        U, "text 'entfernen sie mich'", text="Bitte entfernen Sie mich aus Ihrem Verteiler."
    ),
}


def test_the_table_covers_the_corpus() -> None:
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_message_of_the_corpus(name: str) -> None:
    expected = EXPECTED[name]
    got = classify((CORPUS / name).read_bytes(), received_at=RECEIVED)
    assert got.kind is expected.kind, got.evidence
    assert expected.evidence in got.evidence
    assert got.return_date == expected.returns
    if expected.kind in (R, U):
        assert got.reply_text == expected.text
    assert tuple(dict.fromkeys(r.enrollment_id for r in got.references)) == expected.refs
    assert got.failed_recipients == expected.failed
    if expected.kind in (OOO, U, R):
        assert got.sender == "ada@acme.example.com" or expected.refs == ()


def test_an_activity_detail_is_the_evidence_then_the_reply() -> None:
    got = classify((CORPUS / "reply_gmail.eml").read_bytes(), received_at=RECEIVED)
    assert got.detail == f"{got.evidence}\n\nSounds good, let's talk on Tuesday at 10."
    ooo = classify((CORPUS / "ooo_en_date.eml").read_bytes(), received_at=RECEIVED)
    assert ooo.detail == ooo.evidence


def test_the_date_read_is_relative_to_the_messages_date() -> None:
    """ "7 December" in a message of December 2027 is 2027's; a Date header far from the
    receipt is not believed (the receipt is the base)."""
    raw = (CORPUS / "ooo_fr_date.eml").read_bytes()
    later = raw.replace(b"Mon, 30 Nov 2026", b"Tue, 30 Nov 2027")
    got = classify(later, received_at=datetime(2027, 11, 30, 12, 0, tzinfo=UTC))
    assert got.return_date == date(2027, 12, 7)
    stale = classify(raw.replace(b"2026", b"2020", 1), received_at=RECEIVED)
    assert stale.sent_at == RECEIVED


@pytest.mark.parametrize(
    "raw",
    [b"", b"hello world", b"\x00\x00\xff\xfe garbage", b"Subject: no sender\n\nhi", b"\n\n\n"],
)
def test_what_is_not_an_email_is_refused(raw: bytes) -> None:
    with pytest.raises(NotAMessage):
        classify(raw, received_at=RECEIVED)


@pytest.mark.parametrize(
    "raw",
    [
        b"From: ada@acme.example.com\nContent-Type: multipart/report; boundary=x\n\n--x\n"
        b"Content-Type: message/delivery-status\n\n\x00\xff",
        b"From: =?utf-8?q?=ZZ?= <ada@acme.example.com>\nSubject: =?bogus?b?!!!?=\n\nhi",
        b"From: ada@acme.example.com\nDate: not a date at all\nIn-Reply-To: <seqgql.x.y@z>\n\n"
        + b"x" * 300_000,
        b"From: ada@acme.example.com\nContent-Type: text/plain; charset=utf-7\n"
        b"Content-Transfer-Encoding: base64\n\n!!!not base64",
        b"From: ada@acme.example.com\nContent-Type: multipart/mixed; boundary=\n\n--\n--",
    ],
)
def test_odd_messages_classify_without_an_error(raw: bytes) -> None:
    got = classify(raw, received_at=RECEIVED)
    assert got.sender == "ada@acme.example.com"
    assert "\x00" not in got.detail


def test_our_message_ids_are_read_in_one_place() -> None:
    text = (
        "<seqgql.12.3.0@example.com> <other@example.com> <seqgql.5.message.77@example.com> "
        "<seqgql.9.0123456789abcdef0123456789abcdef@example.com> <seqgql.12.3.0@example.com>"
    )
    assert sent_message_refs(text) == [
        SentMessageRef(12, step=3, attempt=0),
        SentMessageRef(5, bulk_operation_id=77),
        SentMessageRef(9),
    ]
