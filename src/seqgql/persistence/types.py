"""Column types shared by the tables: ids, UTC timestamps and domain enums."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any, TypeAlias

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

# 64-bit ids on PostgreSQL; SQLite only auto-increments an INTEGER PRIMARY KEY.
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Aware UTC datetimes on every dialect (SQLite keeps naive UTC text)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def result_processor(self, dialect: Dialect, coltype: Any) -> Any:
        # asyncpg reads timestamptz as aware UTC datetimes already: only a naive one (an
        # expression without a time zone) is converted
        if dialect.driver == "asyncpg":
            return _aware
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _aware(value: datetime | None) -> datetime | None:
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


def enum_type(enum_class: type[enum.StrEnum]) -> sa.Enum:
    """A VARCHAR column holding the enum's values (no native PostgreSQL enum type)."""
    return sa.Enum(
        enum_class,
        native_enum=False,
        create_constraint=False,
        length=32,
        values_callable=lambda members: [m.value for m in members],
        validate_strings=True,
    )


def id_column(**kwargs: Any) -> sa.Column[int]:
    return sa.Column(BigId, primary_key=True, autoincrement=True, **kwargs)


def fk_column(target: str, *, nullable: bool = False, index: bool = False, **kw: Any) -> Any:
    ondelete = "SET NULL" if nullable else "CASCADE"
    return sa.Column(
        sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
        sa.ForeignKey(target, ondelete=ondelete),
        nullable=nullable,
        index=index,
        **kw,
    )


def ref_column(*, nullable: bool = False) -> Any:
    """An id of another table's row without a foreign key: for the append-only event log,
    whose writer checks these ids once per statement instead of once per row."""
    return sa.Column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=nullable)


def enum_column(enum_class: type[enum.StrEnum], *, nullable: bool = False) -> Any:
    return sa.Column(enum_type(enum_class), nullable=nullable)


def time_column(*, nullable: bool = False, **kw: Any) -> Any:
    return sa.Column(UTCDateTime(), nullable=nullable, **kw)


# A result row of any shape.
Row: TypeAlias = sa.Row[*tuple[Any, ...]]
