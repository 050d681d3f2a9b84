"""send_survey's work per SQS batch: mail each queued invitation once (a `done#` ledger in the Notify table), unless
its address opted out meanwhile. A throttled or unavailable SES brings the message back; a refusal for good is logged
and not retried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aws_lambda_powertools import Logger

from npsloop.notify.channels import ChannelError
from npsloop.notify.config import NotifyConfig
from npsloop.notify.email import Mailer
from npsloop.notify.followup import language
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.optouts import OptOutStore
from npsloop.surveys.links import Invitation
from npsloop.surveys.mail import compose

logger = Logger(child=True)
DONE = "invitation"


@dataclass(frozen=True)
class DeliverPorts:
    state: NotifyState
    optouts: OptOutStore
    mailer: Mailer | None
    public_url: str | None


def send_invitations(jobs: Sequence[tuple[str, Invitation]], config: NotifyConfig, ports: DeliverPorts) -> set[str]:
    """Returns the message ids that must come back."""
    if ports.mailer is None or not config.token_key or not ports.public_url:
        logger.error("survey email is not configured (notify.email.sender, notify.token_key, public URL)")
        return {mid for mid, _ in jobs}
    opted_out = ports.optouts.opted_out(invitation.email for _, invitation in jobs)
    done = ports.state.done(invitation.response_id for _, invitation in jobs)
    failed: set[str] = set()
    seen: set[str] = set()  # the same invitation twice in one batch (a redelivered trigger) is handled once
    for mid, invitation in jobs:
        sid = invitation.survey_id
        if DONE in done.get(invitation.response_id, set()) or invitation.response_id in seen:
            continue
        seen.add(invitation.response_id)
        if invitation.email.lower() in opted_out:
            ports.state.mark_done(invitation.response_id, DONE)
            logger.info("survey invitation skipped", extra={"survey_id": sid, "reason": "opted out"})
            continue
        try:
            ports.mailer.send(compose(invitation, config.surveys, ports.public_url, config.token_key))
        except ChannelError as exc:
            logger.warning("survey invitation failed", extra={"survey_id": sid, "problem": str(exc),
                                                              "retryable": exc.retryable})  # fmt: skip
            if exc.retryable:
                failed.add(mid)
            else:
                ports.state.mark_done(invitation.response_id, DONE)
            continue
        ports.state.mark_done(invitation.response_id, DONE)
        logger.info("survey invitation sent", extra={"survey_id": sid, "language": language(invitation.locale),
                                                     "touchpoint": invitation.touchpoint})  # fmt: skip
    return failed
