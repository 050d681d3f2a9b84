"""What compute_score learns from a comment: its themes always, its sentiment when Comprehend is enabled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from npsloop.analysis.themes import Taxonomy, guess_language
from npsloop.models import CanonicalResponse

UNAVAILABLE = "unavailable"  # what readers show for a sentiment nobody computed; never stored as a value


class SentimentPort(Protocol):
    def detect(self, texts: Sequence[tuple[str, str]]) -> list[str | None]: ...


@dataclass(frozen=True)
class Analysis:
    themes: tuple[str, ...] = ()
    sentiment: str | None = None  # POSITIVE, NEGATIVE, NEUTRAL or MIXED; None when not analysed


class Analyzer:
    def __init__(self, taxonomy: Taxonomy, sentiment: SentimentPort | None = None):
        self.taxonomy, self.sentiment = taxonomy, sentiment

    def analyze(self, responses: Sequence[CanonicalResponse]) -> dict[str, Analysis]:
        """Analysis per response id; a response without a comment has no themes and no sentiment."""
        themes = {r.response_id: tuple(self.taxonomy.themes_of(r.comment)) for r in responses}
        sentiments: dict[str, str | None] = {}
        with_comment = [r for r in responses if r.comment]
        if self.sentiment is not None and with_comment:
            found = self.sentiment.detect([(guess_language(r.comment, r.locale), r.comment or "")
                                           for r in with_comment])  # fmt: skip
            sentiments = {r.response_id: s for r, s in zip(with_comment, found, strict=True)}
        return {rid: Analysis(t, sentiments.get(rid)) for rid, t in themes.items()}
