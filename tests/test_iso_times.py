"""seqgql.iso_times.isoformat writes what datetime.isoformat writes, for every time, and
isoformat_json that text as a JSON string."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given
from hypothesis import strategies as st

from seqgql.iso_times import isoformat, isoformat_json


@given(st.datetimes(timezones=st.just(UTC)))
def test_utc_times_as_isoformat_writes_them(value: datetime) -> None:
    assert isoformat(value) == value.isoformat()


@given(st.datetimes(timezones=st.none() | st.timezones()))
def test_every_other_time_as_isoformat_writes_it(value: datetime) -> None:
    assert isoformat(value) == value.isoformat()


@given(st.datetimes(timezones=st.none() | st.timezones() | st.just(UTC)))
def test_as_json_the_same_text_quoted(value: datetime) -> None:
    assert isoformat_json(value) == json.dumps(value.isoformat()).encode()


def test_the_edges() -> None:
    for value in (
        datetime(1, 1, 1, tzinfo=UTC),
        datetime(9999, 12, 31, 23, 59, 59, 999_999, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=UTC),  # no microseconds: none written
        datetime(2026, 1, 1, microsecond=1, tzinfo=UTC),
        datetime(2026, 1, 1, fold=1, tzinfo=UTC),
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(seconds=5))),  # orjson drops seconds
        datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-3, minutes=-30))),
    ):
        assert isoformat(value) == value.isoformat()
        assert isoformat_json(value) == json.dumps(value.isoformat()).encode()


class Later(datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "later"


def test_a_subclass_writes_itself() -> None:
    assert isoformat(Later(2026, 1, 1, tzinfo=UTC)) == "later"
    assert isoformat_json(Later(2026, 1, 1, tzinfo=UTC)) == b'"later"'
