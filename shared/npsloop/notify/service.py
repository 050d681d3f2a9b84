"""notify's work: alert on detractors (Slack when configured), and always leave a log line without PII."""

from __future__ import annotations

from aws_lambda_powertools import Logger

from npsloop.models import ScoredEvent
from npsloop.notify import slack
from npsloop.scoring import Category
from npsloop.secrets import AppSecret

logger = Logger(child=True)


def notify(event: ScoredEvent, secret: AppSecret) -> None:
    """Raises ChannelError when a configured channel failed and the message should come back later."""
    if event.category is not Category.DETRACTOR or event.historical:
        return
    url = secret.notify.slack_webhook_url
    channel = "slack" if url else "log only"
    if url:
        try:
            slack.send(url, event)
        except slack.ChannelError as exc:
            logger.warning("detractor alert failed", extra={"response_id": event.response.response_id,
                                                            "channel": channel, "problem": str(exc)})  # fmt: skip
            if exc.retryable:
                raise
            return
    logger.info(
        "detractor alert",
        extra={"response_id": event.response.response_id, "score": event.response.score,
               "source": event.response.source, "touchpoint": event.response.touchpoint, "channel": channel},
    )  # fmt: skip
