"""Slack incoming webhook: a Block Kit message (score, comment, contact, account, touchpoint, Salesforce link)."""

from __future__ import annotations

from typing import Any

import urllib3

from npsloop import outbound
from npsloop.notify.channels import Alert, ChannelError

TIMEOUT = urllib3.Timeout(connect=3.05, read=10)

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


def post_json(url: str, body: dict[str, Any], who: str) -> None:
    """POST JSON to a chat webhook (a redirect is not followed); 429, 5xx and network errors are retryable, other
    refusals are not."""
    try:
        response = outbound.send("POST", url, timeout=TIMEOUT, json_body=body, redirects=False)
    except outbound.Error as exc:
        raise ChannelError(f"{who} unreachable: {outbound.failure(exc)}", retryable=True) from None
    if response.status_code == 429 or response.status_code >= 500:
        raise ChannelError(f"{who} answered {response.status_code}", retryable=True)
    if response.status_code >= 300:
        raise ChannelError(f"{who} refused the message: {response.status_code}", retryable=False)


class SlackChannel:
    name = "slack"

    def __init__(self, webhook_url: str):
        self.webhook_url = webhook_url

    def send(self, alert: Alert) -> None:
        post_json(self.webhook_url, blocks(alert), "Slack")
