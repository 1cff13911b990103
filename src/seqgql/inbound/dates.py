"""The return date an out-of-office answer gives, in English, German, French, Spanish,
Portuguese, Italian or Dutch.

A date counts only after a phrase that says what it is: "back on", "returning", "zurück
am", "de retour le", "regreso el", "retorno em", "rientro il", "terug op"... (the date is
the return) or "until", "bis", "jusqu'au", "hasta el", "até", "fino al", "tot en met"...
(away until then: the return is the day after). The date is read by ``dateparser`` in the
phrase's language, relative to the message's date, preferring the future; one more than a
year after the message, or before it, is not taken."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from seqgql.inbound.reading import fold

MAX_AHEAD = timedelta(days=366)
# how much text after a phrase may hold its date
_WINDOW = 60

# (language, phrase regex on folded text, whether the date is the return itself)
_PHRASES: tuple[tuple[str, str, bool], ...] = (
    (
        "en",
        r"\b(?:back|return(?:ing)?|returns|be back|in the office again)"
        r"(?: in the office| to the office| to work)?(?: on| from)?\b",
        True,
    ),
    ("en", r"\b(?:until|till|through|thru)\b", False),
    (
        "de",
        r"\b(?:zuruck|wieder (?:im buro|erreichbar|da|zuruck))(?: ab| am)?(?: dem| den)?\b",
        True,
    ),
    ("de", r"\bab(?: dem| den)?\b(?=[^\n]{0,32}\bwieder\b)", True),  # "ab 7.12. wieder da"
    ("de", r"\b(?:bis(?: einschliesslich)?(?: zum| am| den)?)\b", False),
    (
        "fr",
        r"\b(?:de retour|retour|reviendrai|serai la)(?: au bureau)?(?: le| a partir du)?\b",
        True,
    ),
    ("fr", r"\b(?:jusqu'au|jusqu'a|jusqu au)(?: le)?\b", False),
    (
        "es",
        r"\b(?:regreso|regresare|vuelvo|volvere|de vuelta|estare de vuelta)"
        r"(?: a la oficina)?(?: el)?\b",
        True,
    ),
    ("es", r"\b(?:hasta el|hasta)\b", False),
    (
        "pt",
        r"\b(?:retorno|retornarei|volto|voltarei|de volta|regresso)"
        r"(?: ao escritorio)?(?: em| no dia| a)?\b",
        True,
    ),
    ("pt", r"\b(?:ate o dia|ate dia|ate)\b", False),
    (
        "it",
        r"\b(?:rientro|rientrero|di ritorno|tornero|ritorno)(?: in ufficio)?(?: il| dal)?\b",
        True,
    ),
    ("it", r"\b(?:fino al|fino a)\b", False),
    ("nl", r"\b(?:terug|weer aanwezig|weer op kantoor|ben weer)(?: op| vanaf)?\b", True),
    ("nl", r"\b(?:tot en met|t/m|tot)\b", False),
)
_COMPILED = tuple((lang, re.compile(rx), is_return) for lang, rx, is_return in _PHRASES)
# day-month order in the languages other than English
_DATE_ORDER = {"en": "MDY", "de": "DMY", "fr": "DMY", "es": "DMY", "pt": "DMY", "it": "DMY",
               "nl": "DMY"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class ReturnDate:
    day: date
    evidence: str  # e.g. "return date 2026-12-07 from 'back on Monday, December 7th'"


def return_date(text: str, sent: datetime) -> ReturnDate | None:
    """The return date ``text`` gives, read relative to ``sent`` (the message's date)."""
    folded = fold(text)[:20_000]
    base = sent.replace(tzinfo=None)
    for wanted in (True, False):  # a stated return first, then "away until"
        for lang, pattern, is_return in _COMPILED:
            if is_return is not wanted:
                continue
            for match in pattern.finditer(folded):
                window = folded[match.end() : match.end() + _WINDOW]
                window = re.split(r"[\n!?;]", window)[0]
                found = _first_date(window, lang, base)
                if found is None:
                    continue
                day, said = found
                returns = day if is_return else day + timedelta(days=1)
                if not base.date() < returns <= (base + MAX_AHEAD).date():
                    continue
                phrase = f"{match.group(0).strip()} {said.strip()}".strip()
                return ReturnDate(returns, f"return date {returns.isoformat()} from {phrase!r}")
    return None


def _first_date(window: str, lang: str, base: datetime) -> tuple[date, str] | None:
    from dateparser.search import search_dates  # its import is slow: only when needed

    settings: dict[str, Any] = {
        "RELATIVE_BASE": base,
        "PREFER_DATES_FROM": "future",
        "REQUIRE_PARTS": ["day", "month"],
        "DATE_ORDER": _DATE_ORDER[lang],
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    try:
        found = search_dates(window, languages=[lang], settings=settings)
    except Exception:  # dateparser on odd text: no date, rather than no answer
        return None
    for said, moment in found or []:
        if len(said.strip()) >= 3 and any(ch.isdigit() for ch in said):
            return moment.date(), said
    return None
