"""What an SMS provider's reports and a contact's texts mean: the carrier keywords
(opt-out, opt-in, help) and the delivery statuses Twilio reports."""

from __future__ import annotations

import enum

# Twilio's default keywords (its "SMS STOP filtering"; OPTOUT and REVOKE since the FCC's
# 2025 revocation rules). Only a text that is the keyword alone counts, in any case.
OPT_OUT_WORDS = frozenset(
    {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
)
OPT_IN_WORDS = frozenset({"START", "UNSTOP", "YES"})
HELP_WORDS = frozenset({"HELP", "INFO"})
# What may surround the keyword and still leave it alone ("Stop.", " STOP! ")
_AROUND = " \t\r\n.!?,;:'\"*"

# Twilio error codes of a message that reached no mobile phone: 30006 "Landline or
# unreachable carrier", 21614 "'To' number is not a valid mobile number".
LANDLINE_ERROR_CODES = frozenset({30006, 21614})


class Keyword(enum.StrEnum):
    OPT_OUT = "OPT_OUT"
    OPT_IN = "OPT_IN"
    HELP = "HELP"


# Twilio's OptOutType parameter (Advanced Opt-Out: the Messaging Service's own keywords)
_OPT_OUT_TYPES = {"STOP": Keyword.OPT_OUT, "START": Keyword.OPT_IN, "HELP": Keyword.HELP}


def keyword_of(body: str, opt_out_type: str | None = None) -> Keyword | None:
    """The carrier keyword a text is, if it is one (else it is a reply). Twilio says so
    itself (``OptOutType``) when the Messaging Service has keywords of its own."""
    if opt_out_type and (said := _OPT_OUT_TYPES.get(opt_out_type.strip().upper())):
        return said
    word = body.strip(_AROUND).upper()
    if word in OPT_OUT_WORDS:
        return Keyword.OPT_OUT
    if word in OPT_IN_WORDS:
        return Keyword.OPT_IN
    if word in HELP_WORDS:
        return Keyword.HELP
    return None


class DeliveryReport(enum.StrEnum):
    """What a status callback says happened to a message."""

    DELIVERED = "DELIVERED"
    FAILED = "FAILED"  # refused or undelivered: the provider's failure
    LANDLINE = "LANDLINE"  # undelivered because the number is no mobile phone
    PENDING = "PENDING"  # still on its way (queued, sending, sent...): nothing to record


def delivery_report(message_status: str, error_code: int | None) -> DeliveryReport:
    """A status callback's ``MessageStatus`` and ``ErrorCode``, read."""
    status = message_status.strip().lower()
    if status == "delivered":
        return DeliveryReport.DELIVERED
    if status in ("undelivered", "failed"):
        if error_code in LANDLINE_ERROR_CODES:
            return DeliveryReport.LANDLINE
        return DeliveryReport.FAILED
    return DeliveryReport.PENDING


def message_key_parts(key: str) -> tuple[int, int | None] | None:
    """The enrollment and step a message key names ("<enrollment>.<step>.<attempt>" for a
    step, "<enrollment>.message.<operation>" for sendMessage, or "<enrollment>"); None
    for anything else."""
    parts = key.split(".")
    if not all(p.isascii() and len(p) <= 18 and (p.isdigit() or p == "message") for p in parts):
        return None  # 18 digits: every id a 64-bit column holds
    if len(parts) == 1 and parts[0].isdigit():
        return int(parts[0]), None
    if len(parts) != 3 or not parts[0].isdigit() or not parts[2].isdigit():
        return None
    if parts[1] != "message" and len(parts[1]) > 9:
        return None  # no step position is that large
    return int(parts[0]), None if parts[1] == "message" else int(parts[1])
