"""NPS by segment and period from the Aggregates table: periods, trend with margins and significant changes (no
I/O beyond the AggregateStore it is handed)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from npsloop.aggregation import OVERALL_VALUE, PERIODS, SUMMED_FROM
from npsloop.errors import UnprocessableError
from npsloop.scoring import Counts, change_is_significant
from npsloop.stores.aggregates import AggregateStore

MAX_PERIODS = 400  # a year and a month of days; more is a request to narrow the range
DEFAULT_PERIODS = 12


@dataclass(frozen=True)
class Period:
    kind: str
    label: str
    start: date
    end: date  # inclusive

    @property
    def sk(self) -> str:
        return f"{self.kind}#{self.label}"


def period_of(kind: str, day: date) -> Period:
    """The day, ISO week (Monday to Sunday), month or quarter containing `day`, labelled as aggregation labels it."""
    if kind == "day":
        return Period(kind, day.isoformat(), day, day)
    if kind == "week":
        year, week, weekday = day.isocalendar()
        start = day - timedelta(days=weekday - 1)
        return Period(kind, f"{year}-W{week:02d}", start, start + timedelta(days=6))
    if kind == "month":
        start = day.replace(day=1)
        return Period(kind, f"{day:%Y-%m}", start, _next_month(start) - timedelta(days=1))
    if kind == "quarter":
        quarter = (day.month - 1) // 3 + 1
        start = date(day.year, 3 * quarter - 2, 1)
        return Period(kind, f"{day.year}-Q{quarter}", start, _next_month(_next_month(_next_month(start))) -
                      timedelta(days=1))  # fmt: skip
    raise ValueError(f"period must be one of {', '.join(PERIODS)}, got {kind!r}")


def _next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def periods_between(kind: str, first: date, last: date) -> list[Period]:
    """Every period of `kind` that overlaps [first, last], oldest first (the first and last ones whole)."""
    out = [period_of(kind, first)]
    while out[-1].end < last:
        out.append(period_of(kind, out[-1].end + timedelta(days=1)))
    return out


def counts_of(item: dict[str, int] | None) -> Counts:
    item = item or {}
    return Counts(item.get("promoters", 0), item.get("passives", 0), item.get("detractors", 0))


def trend(periods: list[Period], items: dict[str, dict[str, int]], before: dict[str, int] | None) -> list[dict]:
    """One row per period: counts, NPS, 95% margin and interval, change since the period before and whether that
    change is significant; NPS and its companions are null for a period without responses."""
    rows = []
    previous = counts_of(before)
    for period in periods:
        counts = counts_of(items.get(period.sk))
        score, margin = counts.nps, counts.margin
        change = None if score is None or previous.nps is None else score - previous.nps
        rows.append({
            "period": period.label, "start": period.start.isoformat(), "end": period.end.isoformat(),
            "responses": counts.responses, "promoters": counts.promoters, "passives": counts.passives,
            "detractors": counts.detractors, "nps": score, "margin": margin,
            "low": None if score is None else score - margin, "high": None if score is None else score + margin,
            "change": change, "significant": change_is_significant(previous, counts),
        })  # fmt: skip
        previous = counts
    return rows


class NpsQuery(BaseModel):
    """What /nps, the dashboard and `npsloop report` are asked: one segment value, one period kind, a date range."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    segment: str = "overall"
    value: str | None = None
    period: str = "month"
    first: date | None = Field(None, alias="from")
    last: date | None = Field(None, alias="to")

    @field_validator("period")
    @classmethod
    def _known_period(cls, value: str) -> str:
        if value not in PERIODS:
            raise ValueError(f"must be one of {', '.join(PERIODS)}")
        return value

    @model_validator(mode="after")
    def _range(self) -> NpsQuery:
        if self.segment == "overall" and self.value not in (None, OVERALL_VALUE):
            raise ValueError("the overall segment has no values: leave value out")
        if self.segment != "overall" and not self.value:
            raise ValueError(f"value is required for segment {self.segment}")
        if self.first and self.last and self.first > self.last:
            raise ValueError("from is after to")
        return self

    @classmethod
    def parse(cls, params: dict[str, Any], segments: tuple[str, ...], today: date) -> NpsQuery:
        """From query parameters; every problem is a 422 naming the parameter."""
        try:
            query = cls.model_validate({k: v for k, v in params.items() if v not in (None, "")})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = str(error["loc"][0]) if error["loc"] else None
            raise UnprocessableError(f"{where + ': ' if where else ''}{error['msg'].removeprefix('Value error, ')}",
                                     field=where) from None  # fmt: skip
        if query.segment not in segments:
            raise UnprocessableError(f"segment must be one of {', '.join(segments)}", field="segment")
        last = query.last or today
        first = query.first or periods_between(query.period, last, last)[0].start
        if query.first is None:  # the last twelve periods up to `to`
            for _ in range(DEFAULT_PERIODS - 1):
                first = period_of(query.period, first - timedelta(days=1)).start
        count = len(periods_between(query.period, first, last))
        if count > MAX_PERIODS:
            raise UnprocessableError(f"{count} {query.period} periods asked for; at most {MAX_PERIODS}: narrow "
                                     "from and to, or choose a longer period", field="from")  # fmt: skip
        return query.model_copy(update={"first": first, "last": last})

    @property
    def pk(self) -> str:
        return f"{self.segment}#{self.value or OVERALL_VALUE}"


@dataclass
class Report:
    query: NpsQuery
    periods: list[dict]
    items: dict[str, dict[str, int]]  # aggregate items of the periods asked for, by sort key

    def as_json(self) -> dict[str, Any]:
        return {"segment": self.query.segment, "value": self.query.value or OVERALL_VALUE,
                "period": self.query.period, "from": self.query.first.isoformat() if self.query.first else None,
                "to": self.query.last.isoformat() if self.query.last else None, "periods": self.periods}  # fmt: skip

    def total(self) -> Counts:
        total = Counts()
        for item in self.items.values():
            total = total + counts_of(item)
        return total

    def histogram(self) -> list[int]:
        """Responses per score 0..10 over the whole range."""
        return [sum(item.get(f"score_{s}", 0) for item in self.items.values()) for s in range(11)]

    def themes(self, category: str) -> list[tuple[str, int]]:
        """Theme counts among `category` ("detractors", "promoters", "passives") over the range, most first."""
        prefix = f"theme_{category}_"
        total: Counter[str] = Counter()
        for item in self.items.values():
            total.update({k.removeprefix(prefix): v for k, v in item.items() if k.startswith(prefix) and v > 0})
        return sorted(total.items(), key=lambda kv: (-kv[1], kv[0]))


class Counted(Protocol):
    def between(self, pk: str, first_sk: str, last_sk: str) -> dict[str, dict[str, int]]: ...


def nps_report(store: AggregateStore, query: NpsQuery, accounts: Counted) -> Report:
    """Read the periods asked for and the one before (for the first change) in one Query of the Aggregates table (of
    the Responses table's ByAccount index for the account segment: `accounts`): the items themselves for days and
    months, the days of each week and the months of each quarter to add up."""
    assert query.first and query.last  # NpsQuery.parse fills them
    periods = periods_between(query.period, query.first, query.last)
    before = period_of(query.period, periods[0].start - timedelta(days=1))
    stored = SUMMED_FROM[query.period]
    source: Counted = accounts if query.segment == "account" else store
    found = source.between(query.pk, period_of(stored, before.start).sk, period_of(stored, periods[-1].end).sk)
    items = {p.sk: item for p in periods if (item := _summed(found, stored, p))}
    return Report(query, trend(periods, items, _summed(found, stored, before)), items)


def _summed(found: dict[str, dict[str, int]], stored: str, period: Period) -> dict[str, int] | None:
    """A period's counters: its own item, or the sum of the stored items (days, months) it is made of."""
    if period.kind == stored:
        return found.get(period.sk)
    total: Counter[str] = Counter()
    for part in periods_between(stored, period.start, period.end):
        total.update(found.get(part.sk, {}))
    return dict(total) or None
