"""NPS arithmetic: classification, NPS, its 95% margin of error and the significance of a change (pure)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

Z_95 = 1.96


class Category(StrEnum):
    PROMOTER = "Promoter"
    PASSIVE = "Passive"
    DETRACTOR = "Detractor"


def classify(score: int) -> Category:
    """Promoter 9-10, passive 7-8, detractor 0-6; anything else is not an NPS answer."""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 10:
        raise ValueError(f"an NPS score is an integer from 0 to 10, got {score!r}")
    if score >= 9:
        return Category.PROMOTER
    if score >= 7:
        return Category.PASSIVE
    return Category.DETRACTOR


@dataclass(frozen=True)
class Counts:
    """How many promoters, passives and detractors a segment had in a period."""

    promoters: int = 0
    passives: int = 0
    detractors: int = 0

    @classmethod
    def of(cls, scores: Iterable[int]) -> Counts:
        """The counts of these answers."""
        categories = [classify(score) for score in scores]
        return cls(categories.count(Category.PROMOTER), categories.count(Category.PASSIVE),
                   categories.count(Category.DETRACTOR))  # fmt: skip

    @property
    def responses(self) -> int:
        return self.promoters + self.passives + self.detractors

    @property
    def nps(self) -> float | None:
        """100 × (promoters − detractors) / responses; undefined (None) without responses, never 0."""
        n = self.responses
        return None if n == 0 else 100.0 * (self.promoters - self.detractors) / n

    @property
    def standard_error(self) -> float | None:
        """Standard error of the NPS in points (Rocks 2016): 100 × sqrt(((p + d) − (p − d)²) / n)."""
        n = self.responses
        if n == 0:
            return None
        p, d = self.promoters / n, self.detractors / n
        variance = max((p + d) - (p - d) ** 2, 0.0)
        return 100.0 * math.sqrt(variance / n)

    @property
    def margin(self) -> float | None:
        """Half-width of the 95% confidence interval, in points."""
        se = self.standard_error
        return None if se is None else Z_95 * se

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.promoters + other.promoters, self.passives + other.passives, self.detractors + other.detractors
        )


def nps(promoters: int, passives: int, detractors: int) -> float | None:
    return Counts(promoters, passives, detractors).nps


def margin_of_error(promoters: int, passives: int, detractors: int) -> float | None:
    return Counts(promoters, passives, detractors).margin


def change_is_significant(before: Counts, after: Counts) -> bool | None:
    """Whether the NPS moved by more than 1.96 × sqrt(SE₁² + SE₂²); None when either period is empty."""
    if before.responses == 0 or after.responses == 0:
        return None
    delta = after.nps - before.nps  # type: ignore[operator]
    return abs(delta) > Z_95 * math.hypot(before.standard_error, after.standard_error)  # type: ignore[arg-type]
