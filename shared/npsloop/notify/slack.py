"""Slack incoming webhook: a Block Kit message for a detractor."""

from __future__ import annotations

from typing import Any

import requests

from npsloop.models import ScoredEvent

TIMEOUT = (3.05, 10)


class ChannelError(Exception):
    """The channel did not take the message; `retryable` says whether a later try may succeed."""

    def __init__(self, message: str, retryable: bool):
        super().__init__(message)
        self.retryable = retryable


def blocks(event: ScoredEvent) -> dict[str, Any]:
    r = event.response
    facts = [("Score", f"*{r.score}* ({event.category.value})"), ("Source", r.source), ("Touchpoint", r.touchpoint),
             ("Contact", r.name or r.email or r.contact_id), ("Account", r.account_id)]  # fmt: skip
    fields = [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts if value]
    comment = (r.comment or "(no comment)")[:2900]
    return {
        "text": f"NPS detractor: score {r.score} from {r.source}",
        "blocks": [
            {"type": "header", "text": {"type": "plain_text", "text": f"Detractor: {r.score}/10"}},
            {"type": "section", "fields": fields[:10]},
            {"type": "section", "text": {"type": "mrkdwn", "text": f">{comment}"}},
            {"type": "context", "elements": [{"type": "mrkdwn", "text": f"Response `{r.response_id}`"}]},
        ],
    }


def send(webhook_url: str, event: ScoredEvent, session: requests.Session | None = None) -> None:
    try:
        response = (session or requests).post(webhook_url, json=blocks(event), timeout=TIMEOUT)
    except requests.RequestException as exc:
        raise ChannelError(f"Slack unreachable: {type(exc).__name__}", retryable=True) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise ChannelError(f"Slack answered {response.status_code}", retryable=True)
    if response.status_code >= 400:
        raise ChannelError(f"Slack refused the message: {response.status_code} {response.text[:200]}", retryable=False)
