"""Sentiment of comments from Amazon Comprehend (BatchDetectSentiment, 25 per call), used only when enabled."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.aws import client

logger = Logger(child=True)
BATCH = 25  # BatchDetectSentiment limit
MAX_BYTES = 4_900  # each document must be under 5,000 bytes of UTF-8


def _truncate(text: str) -> str:
    return text.encode()[:MAX_BYTES].decode("utf-8", "ignore")


class ComprehendSentiment:
    def __init__(self, comprehend: Any | None = None):
        self._comprehend = comprehend

    @property
    def comprehend(self) -> Any:
        return self._comprehend or client("comprehend")

    def detect(self, texts: Sequence[tuple[str, str]]) -> list[str | None]:
        """POSITIVE, NEGATIVE, NEUTRAL or MIXED for each (language, text); None where Comprehend gave no answer.

        Sentiment is an extra, never a reason to hold a response back: a failed call leaves its texts at None.
        """
        out: list[str | None] = [None] * len(texts)
        by_language: dict[str, list[int]] = {}
        for i, (language, _) in enumerate(texts):
            by_language.setdefault(language, []).append(i)
        for language, indexes in by_language.items():
            for start in range(0, len(indexes), BATCH):
                chunk = indexes[start : start + BATCH]
                try:
                    result = self.comprehend.batch_detect_sentiment(
                        TextList=[_truncate(texts[i][1]) for i in chunk], LanguageCode=language
                    )
                except Exception as exc:  # any failure: these comments simply have no sentiment
                    logger.warning("Comprehend gave no sentiment", extra={"problem": type(exc).__name__,
                                                                          "texts": len(chunk)})  # fmt: skip
                    continue
                for entry in result.get("ResultList", []):
                    out[chunk[entry["Index"]]] = entry.get("Sentiment")
                if result.get("ErrorList"):
                    logger.warning("Comprehend skipped some texts", extra={"texts": len(result["ErrorList"])})
        return out
