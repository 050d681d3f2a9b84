"""Routing rules: which alert channels a response goes to, by category, touchpoint and account."""

from __future__ import annotations

from collections.abc import Sequence

from npsloop.models import ScoredEvent
from npsloop.notify.config import AlertRule


def kinds(event: ScoredEvent, turned_detractor: bool) -> set[str]:
    out = {event.category.value.lower()}
    if turned_detractor:
        out.add("turned_detractor")
    return out


def route(event: ScoredEvent, turned_detractor: bool, rules: Sequence[AlertRule],
          account_id: str | None = None) -> dict[str, list[AlertRule]]:  # fmt: skip
    """The matching rules per channel; `account_id` is the response's (or the one Salesforce matched)."""
    found = kinds(event, turned_detractor)
    account = (account_id or event.response.account_id or "")[:15]
    out: dict[str, list[AlertRule]] = {}
    for rule in rules:
        if not found & set(rule.categories):
            continue
        if rule.touchpoints and event.response.touchpoint not in rule.touchpoints:
            continue
        if rule.accounts and account not in {a[:15] for a in rule.accounts}:
            continue
        out.setdefault(rule.channel, []).append(rule)
    return out
