"""The hourly reminder run: every planned reminder that is due (npsloop.stores.surveys) is queued to the SurveyQueue
as a reminder job, unless its invitation was answered (a response stored for it, or a click in the last hour not
recorded yet); then its plan is dropped either way. send_survey mails the reminder once (its claim), and skips an
address that opted out, bounced, complained or was erased since."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from npsloop.stores.queue import Queue
from npsloop.stores.responses import ResponseStore
from npsloop.stores.surveys import DueReminder, SurveyLedger
from npsloop.surveys.links import SurveyJob

logger = Logger(child=True)
PENDING_CLICK = timedelta(hours=1)  # a held click is recorded within seconds; one this recent counts as an answer


@dataclass(frozen=True)
class RemindPorts:
    ledger: SurveyLedger
    responses: ResponseStore
    queue: Queue


def queue_reminders(now: datetime, ports: RemindPorts) -> dict[str, int]:
    """Queue the reminders due at `now`; how many were due, queued, and skipped as answered."""
    due: list[tuple[DueReminder, SurveyJob]] = []
    for plan in ports.ledger.due_reminders(now):
        try:
            due.append((plan, SurveyJob.model_validate_json(plan.invitation).model_copy(update={"reminder": True})))
        except ValidationError:
            logger.error("unreadable reminder dropped", extra={"survey_id": plan.survey_id})
            ports.ledger.drop_reminder(plan)
    answered = set(ports.responses.revisions([job.response_id for _, job in due]))
    reminders = [job for _, job in due if job.response_id not in answered and not _clicked(job, now, ports)]
    ports.queue.send([job.model_dump_json() for job in reminders])  # before the plans go: a failed send retries
    for plan, _ in due:
        ports.ledger.drop_reminder(plan)
    counts = {"due": len(due), "queued": len(reminders), "answered": len(due) - len(reminders)}
    logger.info("survey reminders checked", extra=counts)
    return counts


def _clicked(job: SurveyJob, now: datetime, ports: RemindPorts) -> bool:
    return any(click.at >= now - PENDING_CLICK for click in ports.ledger.clicks(job.survey_id))
