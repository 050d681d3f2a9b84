"""Slack incoming webhook: a Block Kit message (score, comment, contact, account, touchpoint, Salesforce link)."""

from __future__ import annotations

from typing import Any

import requests

from npsloop.notify.channels import Alert, ChannelError

TIMEOUT = (3.05, 10)

__all__ = ["ChannelError", "SlackChannel", "blocks", "post_json"]


def blocks(alert: Alert) -> dict[str, Any]:
    r = alert.event.response
    facts = [("Score", f"*{r.score}* ({alert.event.category.value})"), ("Source", r.source),
             ("Touchpoint", r.touchpoint), ("Contact", alert.contact), ("Account", r.account_id)]  # fmt: skip
    fields = [{"type": "mrkdwn", "text": f"*{name}*\n{value}"} for name, value in facts if value]
    comment = (r.comment or "(no comment)")[:2900]
    out: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": alert.title}},
        {"type": "section", "fields": fields[:10]},
        {"type": "section", "text": {"type": "mrkdwn", "text": f">{comment}"}},
    ]
    if alert.record_url:
        label = {"type": "plain_text", "text": "Open in Salesforce"}
        button = {"type": "button", "url": alert.record_url, "text": label}
        out.append({"type": "actions", "elements": [button]})
    out.append({"type": "context", "elements": [{"type": "mrkdwn", "text": f"Response `{r.response_id}`"}]})
    return {"text": f"NPS {alert.title} from {r.source}", "blocks": out}


def post_json(url: str, body: dict[str, Any], who: str, session: requests.Session | None = None) -> None:
    """POST JSON to a chat webhook; 429, 5xx and network errors are retryable, other refusals are not."""
    try:
        response = (session or requests).post(url, json=body, timeout=TIMEOUT, allow_redirects=False)
    except requests.RequestException as exc:
        raise ChannelError(f"{who} unreachable: {type(exc).__name__}", retryable=True) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise ChannelError(f"{who} answered {response.status_code}", retryable=True)
    if response.status_code >= 300:
        raise ChannelError(f"{who} refused the message: {response.status_code}", retryable=False)


class SlackChannel:
    name = "slack"

    def __init__(self, webhook_url: str, session: requests.Session | None = None):
        self.webhook_url, self.session = webhook_url, session

    def send(self, alert: Alert) -> None:
        post_json(self.webhook_url, blocks(alert), "Slack", self.session)
