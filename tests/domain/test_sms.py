"""What texts and Twilio's reports mean (domain.sms)."""

from __future__ import annotations

import pytest

from seqgql.domain.sms import (
    DeliveryReport,
    Keyword,
    delivery_report,
    keyword_of,
    message_key_parts,
)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("STOP", Keyword.OPT_OUT), ("stop", Keyword.OPT_OUT), (" Stop. ", Keyword.OPT_OUT),
        ("STOPALL", Keyword.OPT_OUT), ("unsubscribe", Keyword.OPT_OUT),
        ("Cancel", Keyword.OPT_OUT), ("END", Keyword.OPT_OUT), ("quit!", Keyword.OPT_OUT),
        ("OPTOUT", Keyword.OPT_OUT), ("revoke", Keyword.OPT_OUT),
        ("START", Keyword.OPT_IN), ("unstop", Keyword.OPT_IN), ("Yes", Keyword.OPT_IN),
        ("HELP", Keyword.HELP), ("info?", Keyword.HELP),
        ("STOP please", None), ("please stop", None), ("Yes, Tuesday works", None),
        ("", None), ("ST OP", None),
    ],
)  # fmt: skip
def test_only_a_keyword_alone_is_a_keyword(body: str, expected: Keyword | None) -> None:
    assert keyword_of(body) is expected


def test_twilio_names_the_messaging_service_s_own_keywords() -> None:
    assert keyword_of("ARRET", "STOP") is Keyword.OPT_OUT
    assert keyword_of("Go on", "start") is Keyword.OPT_IN
    assert keyword_of("AIDE", "HELP") is Keyword.HELP
    assert keyword_of("hello", "SOMETHING NEW") is None


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        ("delivered", None, DeliveryReport.DELIVERED),
        ("undelivered", 30003, DeliveryReport.FAILED),
        ("failed", 30008, DeliveryReport.FAILED),
        ("failed", None, DeliveryReport.FAILED),
        ("undelivered", 30006, DeliveryReport.LANDLINE),
        ("failed", 21614, DeliveryReport.LANDLINE),
        ("queued", None, DeliveryReport.PENDING),
        ("sent", None, DeliveryReport.PENDING),
        ("read", None, DeliveryReport.PENDING),
        ("something new", 30006, DeliveryReport.PENDING),
    ],
)
def test_delivery_reports(status: str, code: int | None, expected: DeliveryReport) -> None:
    assert delivery_report(status, code) is expected


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("42.3.0", (42, 3)), ("42.message.17", (42, None)), ("42", (42, None)),
        ("", None), ("42.3", None), ("42.3.0.1", None), ("x.3.0", None), ("42..0", None),
        ("-1.3.0", None), ("4².3.0", None), ("9" * 19, None), ("42." + "9" * 10 + ".0", None),
        ("42.message", None), ("message.1.0", None),
    ],
)  # fmt: skip
def test_message_keys(key: str, expected: tuple[int, int | None] | None) -> None:
    assert message_key_parts(key) == expected
