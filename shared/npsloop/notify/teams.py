"""Microsoft Teams workflow webhook ("Post to a channel when a webhook request is received"): an Adaptive Card."""

from __future__ import annotations

from typing import Any

from npsloop.notify.channels import Alert
from npsloop.notify.slack import post_json


def card(alert: Alert) -> dict[str, Any]:
    r = alert.event.response
    facts = [("Score", f"{r.score} ({alert.event.category.value})"), ("Source", r.source),
             ("Touchpoint", r.touchpoint), ("Contact", alert.contact), ("Account", r.account_id)]  # fmt: skip
    content: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard", "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": alert.title, "weight": "Bolder", "size": "Medium", "wrap": True},
            {"type": "FactSet", "facts": [{"title": name, "value": str(value)} for name, value in facts if value]},
            {"type": "TextBlock", "text": (r.comment or "(no comment)")[:2900], "wrap": True, "isSubtle": True},
            {"type": "TextBlock", "text": f"Response {r.response_id}", "size": "Small", "isSubtle": True},
        ],
    }  # fmt: skip
    if alert.record_url:
        content["actions"] = [{"type": "Action.OpenUrl", "title": "Open in Salesforce", "url": alert.record_url}]
    attachment = {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": content}
    return {"type": "message", "attachments": [attachment]}


class TeamsChannel:
    name = "teams"

    def __init__(self, webhook_url: str):
        self.webhook_url = webhook_url

    def send(self, alert: Alert) -> None:
        post_json(self.webhook_url, card(alert), "Teams")
