"""Which aggregate items a response counts in, and how the counts move when its answer changes (pure)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import NamedTuple

from npsloop.models import CanonicalResponse, utc
from npsloop.scoring import Category, classify

PERIODS = ("day", "week", "month", "quarter")  # what a report may ask for
# what the Aggregates table counts: a week is the sum of its days, a quarter of its months (npsloop.reports adds them
# up), so a batch moves half the items it would with every period stored
STORED_PERIODS = ("day", "month")
SUMMED_FROM = {"day": "day", "week": "day", "month": "month", "quarter": "month"}
SEGMENTS = ("overall", "source", "touchpoint", "campaign")
BUILT_IN_SEGMENTS = ("overall", "source", "touchpoint", "campaign", "account")
OVERALL_VALUE = "all"
CATEGORY_ATTRIBUTE = {Category.PROMOTER: "promoters", Category.PASSIVE: "passives", Category.DETRACTOR: "detractors"}


class AggregateKey(NamedTuple):
    pk: str  # "<segment>#<value>", e.g. "touchpoint#onboarding"
    sk: str  # "<period>#<label>", e.g. "month#2026-08"


def period_labels(at: datetime) -> dict[str, str]:
    """Labels of the day, ISO week, month and quarter that contain `at` in UTC: 2026-08-14, 2026-W33, 2026-08,
    2026-Q3."""
    at = utc(at)
    year, week, _ = at.isocalendar()
    return {"day": f"{at:%Y-%m-%d}", "week": f"{year}-W{week:02d}", "month": f"{at:%Y-%m}",
            "quarter": f"{at.year}-Q{(at.month - 1) // 3 + 1}"}  # fmt: skip


def segment_values(response: CanonicalResponse, segments: Iterable[str] = SEGMENTS) -> dict[str, str]:
    """The segments a response belongs to; a segment whose value is absent is left out (overall covers it).

    A segment that is not built in is a custom attribute (configured by name): its value is the attribute's.
    """
    values = {"overall": OVERALL_VALUE, "source": response.source, "touchpoint": response.touchpoint,
              "campaign": response.campaign, "account": response.account_id}  # fmt: skip
    return {s: v for s in segments if (v := values[s] if s in BUILT_IN_SEGMENTS else response.attributes.get(s))}


def counted_segments(custom: Iterable[str] = ()) -> tuple[str, ...]:
    """SEGMENTS plus the configured custom attributes, in that order (a built-in name is not counted twice)."""
    return SEGMENTS + tuple(dict.fromkeys(c for c in custom if c and c not in BUILT_IN_SEGMENTS))


def keys_for(segments: Mapping[str, str], at: datetime, periods: Iterable[str] = STORED_PERIODS) -> list[AggregateKey]:
    labels = period_labels(at)
    return [AggregateKey(f"{s}#{v}", f"{p}#{labels[p]}") for s, v in segments.items() for p in periods]


def contribution(score: int, keys: Iterable[AggregateKey], themes: Iterable[str] = ()) -> dict:
    """What one response adds: its score (and its comment's themes) in each of its aggregate items (what
    `deltas` compares between a response's old and new basis)."""
    out: dict = {"score": score, "keys": [list(k) for k in keys]}
    if themes:
        out["themes"] = sorted(themes)
    return out


def theme_attribute(category: Category | str, theme: str) -> str:
    """The counter of a theme among a category's comments: theme_detractors_price."""
    return f"theme_{CATEGORY_ATTRIBUTE[Category(category)]}_{theme}"


def increments(score: int, themes: Iterable[str] = ()) -> Counter:
    """The counters one response adds to an aggregate item."""
    category = classify(score)
    counter = Counter({"responses": 1, CATEGORY_ATTRIBUTE[category]: 1, f"score_{score}": 1})
    counter.update(theme_attribute(category, t) for t in themes)
    return counter


def deltas(old: Mapping | None, new: Mapping | None) -> dict[AggregateKey, Counter]:
    """Counter moves per aggregate item to go from the `old` contribution (None: not counted yet) to `new` (None: no
    longer counted)."""
    moves: dict[AggregateKey, Counter] = defaultdict(Counter)
    for key in new["keys"] if new else ():
        moves[AggregateKey(*key)].update(increments(new["score"], new.get("themes", ())))
    if old:
        for key in old["keys"]:
            moves[AggregateKey(*key)].subtract(increments(old["score"], old.get("themes", ())))
    return {k: Counter({a: n for a, n in c.items() if n}) for k, c in moves.items() if any(c.values())}


class Basis(NamedTuple):
    """What a stored response counts for, as the Responses item holds it beside the answer (so an erased answer
    still counts): its score, the time it counts at, its segment values and its comment's themes. (The account the
    sync matched is not counted here: the Responses table's ByAccount index holds each linked response once.)"""

    score: int
    at: datetime
    segments: Mapping[str, str]
    themes: tuple[str, ...] = ()


def basis_of(response: CanonicalResponse, received_at: datetime, segments: Iterable[str], themes: Iterable[str] = ()
             ) -> Basis:  # fmt: skip
    """The basis of a revision, as its writer stores it: counted at responded_at, else when it was received."""
    at = response.responded_at or utc(received_at)
    return Basis(response.score, utc(at), segment_values(response, segments), tuple(sorted(themes)))


def basis_moves(old: Basis | None, new: Basis | None) -> dict[AggregateKey, Counter]:
    """Counter moves for a response whose stored basis went from `old` to `new` (None: not stored)."""

    def counted(basis: Basis | None) -> dict | None:
        return contribution(basis.score, keys_for(basis.segments, basis.at), basis.themes) if basis else None

    return deltas(counted(old), counted(new))


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
