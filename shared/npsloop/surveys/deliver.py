"""send_survey's work per SQS batch: mail each queued invitation, and each queued reminder, once, unless its address
opted out meanwhile. Each is claimed in the Notify table's `done#` ledger before it is mailed (a claim that lapses
after CLAIM_SECONDS, so two containers never both send it and a crash after the claim only delays it) and marked
done after. A sent invitation plans its reminder when the touchpoint has one. A throttled or unavailable SES brings
the message back; a refusal for good is logged and not retried."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from aws_lambda_powertools import Logger

from npsloop.notify.channels import ChannelError
from npsloop.notify.config import NotifyConfig
from npsloop.notify.email import Mailer
from npsloop.notify.followup import language
from npsloop.stores.notify_state import NotifyState
from npsloop.stores.optouts import OptOutStore
from npsloop.stores.surveys import SurveyLedger
from npsloop.surveys.links import SurveyJob
from npsloop.surveys.mail import compose

logger = Logger(child=True)
DONE = "invitation"
REMINDED = "reminder"
# Longer than the function's Timeout (30 s) so a slow send keeps its claim, shorter than the SurveyQueue's
# VisibilityTimeout (180 s) so the message that comes back after a crash finds the claim lapsed and is sent.
CLAIM_SECONDS = 120


@dataclass(frozen=True)
class DeliverPorts:
    state: NotifyState
    optouts: OptOutStore
    mailer: Mailer | None
    public_url: str | None
    ledger: SurveyLedger | None = None  # where reminders are planned
    reminder_days: int = 0  # the template's SurveyReminderDays (the secret may override it per touchpoint)


def send_invitations(jobs: Sequence[tuple[str, SurveyJob]], config: NotifyConfig, ports: DeliverPorts,
                     now: datetime | None = None) -> set[str]:  # fmt: skip
    """Returns the message ids that must come back."""
    if ports.mailer is None or not config.token_key or not ports.public_url:
        logger.error("survey email is not configured (notify.email.sender, notify.token_key, public URL)")
        return {mid for mid, _ in jobs}
    opted_out = ports.optouts.opted_out(job.email for _, job in jobs)
    done = ports.state.done(job.response_id for _, job in jobs)
    failed: set[str] = set()
    seen: set[tuple[str, str]] = set()  # the same job twice in one batch (a redelivered trigger) is handled once
    for mid, job in jobs:
        sid, action = job.survey_id, REMINDED if job.reminder else DONE
        if action in done.get(job.response_id, set()) or (job.response_id, action) in seen:
            continue
        seen.add((job.response_id, action))
        if job.email.lower() in opted_out:
            ports.state.mark_done(job.response_id, action)
            logger.info("survey email skipped", extra={"survey_id": sid, "kind": action, "reason": "opted out"})
            continue
        claim = ports.state.claim(job.response_id, action, timedelta(seconds=CLAIM_SECONDS), now)
        if claim != "claimed":
            if claim == "held":  # another container is sending it now: look again once its claim could lapse
                failed.add(mid)
            continue
        try:
            ports.mailer.send(compose(job.invitation, config.surveys, ports.public_url, config.token_key,
                                      reminder=job.reminder))  # fmt: skip
        except ChannelError as exc:
            logger.warning("survey email failed", extra={"survey_id": sid, "kind": action, "problem": str(exc),
                                                         "retryable": exc.retryable})  # fmt: skip
            if exc.retryable:
                ports.state.release(job.response_id, action)
                failed.add(mid)
            else:
                ports.state.mark_done(job.response_id, action)
            continue
        if not job.reminder:
            _plan_reminder(job, config, ports, now or datetime.now(UTC))
        ports.state.mark_done(job.response_id, action)
        logger.info("survey email sent", extra={"survey_id": sid, "kind": action, "language": language(job.locale),
                                                "touchpoint": job.touchpoint})  # fmt: skip
    return failed


def _plan_reminder(job: SurveyJob, config: NotifyConfig, ports: DeliverPorts, sent_at: datetime) -> None:
    days = config.surveys.reminder_days(job.touchpoint, ports.reminder_days)
    if days and ports.ledger is not None:
        ports.ledger.plan_reminder(job.email, job.survey_id, job.invitation.model_dump_json(),
                                   sent_at + timedelta(days=days))  # fmt: skip
