"""POST /surveys/send: each recipient checked (shape, opt-out list, Salesforce `HasOptedOutOfEmail`, cooldown) and
queued for send_survey, which mails it through SES. The answer lists every recipient in order with its status:
`queued`, `throttled`, `opted_out` or `invalid`, and a reason."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from npsloop.errors import ConfigurationError, UnprocessableError, UpstreamUnavailableError
from npsloop.notify.config import NotifyConfig
from npsloop.salesforce.client import SalesforceClient, SalesforceError
from npsloop.salesforce.sync import chunked_queries, salesforce_id
from npsloop.sources.base import json_object
from npsloop.stores.optouts import OptOutStore
from npsloop.stores.queue import Queue
from npsloop.stores.surveys import SurveyLedger
from npsloop.surveys.links import Invitation, Recipient

logger = Logger(child=True)
MAX_RECIPIENTS = 500


@dataclass(frozen=True)
class SendPorts:
    optouts: OptOutStore
    ledger: SurveyLedger
    queue: Queue
    salesforce: Callable[[], SalesforceClient] | None = None  # None: no org configured, its opt-out is not asked


def _result(email: Any, status: str, reason: str | None = None) -> dict[str, Any]:
    return {"email": email if isinstance(email, str) else None, "status": status, "reason": reason}


def _problem(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "recipient"
    return f"{where}: {first['msg']}"[:200]


def contacts(select: str, contact_ids: list[str], ports: SendPorts, asked: str,
             emails: list[str] | None = None) -> dict[str, dict[str, Any]]:  # fmt: skip
    """`select` (SELECT Id, ... FROM Contact) of these Contacts and of those with these emails, by 15-character id
    (one query, split only by URI length); empty when no org is configured. UpstreamUnavailableError (nothing
    queued) when Salesforce cannot be asked."""
    ids = sorted({cid for c in contact_ids if (cid := salesforce_id(c, "003"))})
    addresses = sorted({e.strip().lower() for e in emails or []})
    if not (ids or addresses) or ports.salesforce is None:
        return {}
    try:
        api = ports.salesforce()
        records = [r for soql in chunked_queries(select, {"Id": ids, "Email": addresses})
                   for r in api.query(soql)]  # fmt: skip
    except SalesforceError as exc:
        logger.warning("Salesforce Contact lookup failed; nothing queued", extra={"code": exc.code, "asked": asked})
        raise UpstreamUnavailableError(f"Salesforce could not be asked {asked} ({exc.code}); nothing was queued, "
                                       "send again") from None  # fmt: skip
    return {r["Id"][:15]: r for r in records}


def _salesforce_opted_out(recipients: list[Recipient], ports: SendPorts) -> tuple[set[str], set[str]]:
    """The 15-character ids, and the lower-cased emails, of the Contacts with HasOptedOutOfEmail among those the
    recipients name: by contact_id, or by email for a recipient given without a Contact id (any Contact with that
    email)."""
    found = contacts("SELECT Id, Email, HasOptedOutOfEmail FROM Contact", [r.contact_id for r in recipients
                     if r.contact_id], ports, "whether the contacts opted out of email",
                     [r.email for r in recipients if not salesforce_id(r.contact_id, "003")])  # fmt: skip
    opted = [r for r in found.values() if r.get("HasOptedOutOfEmail")]
    return {r["Id"][:15] for r in opted}, {(r.get("Email") or "").lower() for r in opted if r.get("Email")}


def send(body: bytes, config: NotifyConfig, ports: SendPorts, now: datetime | None = None) -> list[dict[str, Any]]:
    """POST /surveys/send's body `{"recipients": [...]}`, each recipient checked and queued."""
    given = json_object(body).get("recipients")
    if not isinstance(given, list) or not given:
        raise UnprocessableError('recipients must be a non-empty array: {"recipients": [{"email": ...}, ...]}',
                                 field="recipients")  # fmt: skip
    if len(given) > MAX_RECIPIENTS:
        raise UnprocessableError(f"at most {MAX_RECIPIENTS} recipients per request, got {len(given)}",
                                 field="recipients")  # fmt: skip
    return send_recipients(given, config, ports, now)


def send_recipients(given: list[Any], config: NotifyConfig, ports: SendPorts, now: datetime | None = None,
                    survey_ids: list[str | None] | None = None) -> list[dict[str, Any]]:  # fmt: skip
    """Each recipient (a dict shaped like Recipient) checked and queued; the result per recipient, in order.

    `survey_ids` fixes the survey id of recipients whose trigger may be delivered again (a Salesforce Notification
    Id): send_survey then mails that invitation once even when the cooldown would let it through again."""
    if not (config.token_key and config.email.sender):
        raise ConfigurationError("survey email needs notify.token_key and notify.email.sender in the npsloop secret")
    results: list[dict[str, Any]] = []
    valid: list[tuple[int, Recipient]] = []
    for item in given:
        try:
            valid.append((len(results), Recipient.model_validate(item)))
            results.append({})
        except ValidationError as exc:
            results.append(_result(item.get("email") if isinstance(item, dict) else None, "invalid", _problem(exc)))
    opted_out = ports.optouts.opted_out(r.email for _, r in valid)
    sf_opted_out, sf_opted_out_emails = _salesforce_opted_out([r for _, r in valid], ports)
    now = now or datetime.now(UTC)
    queued: list[Invitation] = []
    for index, r in valid:
        if r.email.lower() in opted_out:
            results[index] = _result(r.email, "opted_out", "on the opt-out list")
        elif (cid := salesforce_id(r.contact_id, "003")) in sf_opted_out or (
                not cid and r.email.lower() in sf_opted_out_emails):
            results[index] = _result(r.email, "opted_out", "HasOptedOutOfEmail is set on the Salesforce Contact")
        else:
            fixed = survey_ids[index] if survey_ids else None
            invitation = Invitation(**r.model_dump(), survey_id=fixed or secrets.token_urlsafe(12))
            days = config.surveys.cooldown(r.touchpoint)
            if ports.ledger.claim(r.email, r.touchpoint, invitation.survey_id, timedelta(days=days), now):
                queued.append(invitation)
                results[index] = _result(r.email, "queued")
            else:
                results[index] = _result(r.email, "throttled", f"surveyed within the last {days:g} days")
    try:
        ports.queue.send([i.model_dump_json() for i in queued])
    except Exception:
        for invitation in queued:  # nothing went out: the cooldown must not hold them back
            ports.ledger.release(invitation.email, invitation.touchpoint, invitation.survey_id)
        raise
    counts = {s: sum(r["status"] == s for r in results) for s in ("queued", "throttled", "opted_out", "invalid")}
    logger.info("survey invitations checked", extra=counts)
    return results
