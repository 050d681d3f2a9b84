"""The one small interface every alert channel implements, and the alert it is handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from npsloop.models import ScoredEvent


class ChannelError(Exception):
    """The channel did not take the message; `retryable` says whether a later try may succeed."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Alert:
    event: ScoredEvent
    turned_detractor: bool = False  # was a promoter or passive before this answer
    previous_category: str | None = None
    contact_url: str | None = None  # the Salesforce Contact, when known
    account_url: str | None = None
    recipients: tuple[str, ...] = field(default_factory=tuple)  # email only

    @property
    def title(self) -> str:
        r = self.event.response
        if self.turned_detractor:
            return f"Turned detractor: {r.score}/10 (was {(self.previous_category or '').lower()})"
        return f"{self.event.category.value}: {r.score}/10"

    @property
    def contact(self) -> str | None:
        r = self.event.response
        return r.name or r.email or r.contact_id

    @property
    def record_url(self) -> str | None:
        return self.contact_url or self.account_url


class Channel(Protocol):
    name: str

    def send(self, alert: Alert) -> None:
        """Deliver the alert or raise ChannelError."""
