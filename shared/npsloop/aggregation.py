"""Which aggregate items a response counts in, and how the counts move when its answer changes (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from npsloop.models import CanonicalResponse, utc
from npsloop.scoring import Category, Counts, classify

PERIODS = ("day", "week", "month")
SEGMENTS = ("overall", "source", "touchpoint")
OVERALL_VALUE = "all"
CATEGORY_ATTRIBUTE = {Category.PROMOTER: "promoters", Category.PASSIVE: "passives", Category.DETRACTOR: "detractors"}


class AggregateKey(NamedTuple):
    pk: str  # "<segment>#<value>", e.g. "touchpoint#onboarding"
    sk: str  # "<period>#<label>", e.g. "month#2026-08"


def period_labels(at: datetime) -> dict[str, str]:
    """Labels of the day, ISO week and month that contain `at` in UTC: 2026-08-14, 2026-W33, 2026-08."""
    at = utc(at)
    year, week, _ = at.isocalendar()
    return {"day": f"{at:%Y-%m-%d}", "week": f"{year}-W{week:02d}", "month": f"{at:%Y-%m}"}


def segment_values(response: CanonicalResponse, segments: Iterable[str] = SEGMENTS) -> dict[str, str]:
    """The segments a response belongs to; a segment whose value is absent is left out (overall covers it)."""
    values = {"overall": OVERALL_VALUE, "source": response.source, "touchpoint": response.touchpoint,
              "campaign": response.campaign, "account": response.account_id}  # fmt: skip
    return {s: v for s in segments if (v := values.get(s))}


def keys_for(segments: Mapping[str, str], at: datetime, periods: Iterable[str] = PERIODS) -> list[AggregateKey]:
    labels = period_labels(at)
    return [AggregateKey(f"{s}#{v}", f"{p}#{labels[p]}") for s, v in segments.items() for p in periods]


def contribution(score: int, keys: Iterable[AggregateKey]) -> dict:
    """What one response adds: its score in each of its aggregate items (stored as the response's ledger)."""
    return {"score": score, "keys": [list(k) for k in keys]}


def _increments(score: int) -> Counter:
    return Counter({"responses": 1, CATEGORY_ATTRIBUTE[classify(score)]: 1, f"score_{score}": 1})


def deltas(old: Mapping | None, new: Mapping) -> dict[AggregateKey, Counter]:
    """Counter moves per aggregate item to go from the `old` contribution (None: not counted yet) to `new`."""
    moves: dict[AggregateKey, Counter] = defaultdict(Counter)
    for key in new["keys"]:
        moves[AggregateKey(*key)].update(_increments(new["score"]))
    if old:
        for key in old["keys"]:
            moves[AggregateKey(*key)].subtract(_increments(old["score"]))
    return {k: Counter({a: n for a, n in c.items() if n}) for k, c in moves.items() if any(c.values())}


def merge(all_moves: Iterable[Mapping[AggregateKey, Counter]]) -> dict[AggregateKey, Counter]:
    """Sum the moves of many responses: one update per aggregate item per batch."""
    total: dict[AggregateKey, Counter] = defaultdict(Counter)
    for moves in all_moves:
        for key, counter in moves.items():
            total[key].update(counter)
    return {k: Counter({a: n for a, n in c.items() if n}) for k, c in total.items() if any(c.values())}


def month_window(now: datetime, months: int = 12) -> list[str]:
    """Labels of the last `months` months up to and including the month of `now` (UTC), oldest first."""
    now = utc(now)
    year, month = now.year, now.month
    labels = []
    for _ in range(months):
        labels.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return labels[::-1]


def rolling_counts(
    counted: Mapping[str, Mapping[str, int]], moves: Mapping[AggregateKey, Counter], pk: str, window: Iterable[str]
) -> Counts:
    """One segment's counts over a window of months: what the Aggregates table holds plus moves not yet applied."""
    total = Counter()
    for label in window:
        sk = f"month#{label}"
        total.update(counted.get(sk, {}))
        total.update(moves.get(AggregateKey(pk, sk), Counter()))
    return Counts(total["promoters"], total["passives"], total["detractors"])
