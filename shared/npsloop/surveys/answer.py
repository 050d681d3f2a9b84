"""One-click answers: GET /r/{token}?score=N, the comment form's POST, and the held-back recording of clicks.

Mail-security scanners (Safe Links, Mimecast, Proofpoint, ...) open every link of a message, often within seconds
and sometimes with HEAD, while a person clicks one. So a GET shows the thank-you page at once but records nothing
itself: it notes the click and queues it with a delay of HOLD_SECONDS. When the held click comes back, the
invitation's clicks around it decide: BURST_SCORES or more different scores within BURST_SECONDS of it is a scanner
(no person answers 0, 1 and 2 at once), and nothing is recorded; a later click close to it wins (it will be recorded
itself); otherwise the click is recorded. HEAD records nothing, ever. The comment form is a POST only a person sends:
it records at once. Every answer goes through npsloop.ingest like any webhook delivery (source `email`, archived
first), always as the same response `email:<survey id>`, so a later click is a newer revision: latest wins, counted
once.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict, Field

from npsloop import tokens
from npsloop.config import MAX_BODY_BYTES
from npsloop.errors import NpsloopError
from npsloop.ingest import Outcome, receive
from npsloop.notify.followup import language
from npsloop.secrets import AppSecret
from npsloop.sources.base import Delivery, form_fields
from npsloop.stores.archive import RawArchive
from npsloop.stores.queue import Queue
from npsloop.stores.responses import ResponseStore
from npsloop.stores.surveys import Click, SurveyLedger
from npsloop.surveys import links, pages
from npsloop.surveys.links import Invitation

logger = Logger(child=True)
HOLD_SECONDS = 5
BURST_SECONDS = 10
BURST_SCORES = 3
COMMENT_FORM_MAX = 5000


@dataclass(frozen=True)
class AnswerPorts:
    ledger: SurveyLedger
    clicks: Queue
    archive: RawArchive
    store: ResponseStore


@dataclass(frozen=True)
class Page:
    status: int
    html: str


class HeldClick(BaseModel):
    """A GET of an answer link, queued for HOLD_SECONDS before it may be recorded."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    token: str
    score: int = Field(ge=0, le=10)
    at: datetime


def _open(token: str, secret: AppSecret) -> Invitation | Page:
    try:
        return links.read(token, secret.notify.token_key or "")
    except tokens.TokenExpiredError:  # genuine, so its locale can be trusted
        return Page(410, pages.expired(language(links.read_verified(token).locale)))
    except tokens.TokenError:
        return Page(403, pages.invalid())


def _score(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 2 and int(text) <= 10 else None


def show(token: str, score_text: str | None, secret: AppSecret, ports: AnswerPorts, *, count: bool = True,
         now: datetime | None = None) -> Page:  # fmt: skip
    """The page for GET (count=True: the click is held for recording) or HEAD (count=False: nothing is noted)."""
    invitation = _open(token, secret)
    if isinstance(invitation, Page):
        return invitation
    lang = language(invitation.locale)
    score = _score(score_text)
    if score is None:
        return Page(400, pages.bad_score(lang))
    if count:
        click = Click(now or datetime.now(UTC), score)
        ports.ledger.add_click(invitation.survey_id, click)
        held = HeldClick(token=token, score=score, at=click.at)
        ports.clicks.send([held.model_dump_json()], delay_seconds=HOLD_SECONDS)
        logger.info("answer link opened", extra={"survey_id": invitation.survey_id, "score": score})
    return Page(200, pages.thanks(lang, score, COMMENT_FORM_MAX))


def comment(token: str, form: bytes, secret: AppSecret, ports: AnswerPorts, now: datetime | None = None) -> Page:
    """The comment form: its score and comment are recorded at once (a person sent it)."""
    invitation = _open(token, secret)
    if isinstance(invitation, Page):
        return invitation
    lang = language(invitation.locale)
    fields = form_fields(form)
    score = _score(fields.get("score"))
    if score is None:
        stored = ports.store.get(invitation.response_id)
        score = stored.response.score if stored else None
    if score is None:
        return Page(400, pages.bad_score(lang))
    text = fields.get("comment", "").strip() or None
    _record(token, invitation, score, text, now or datetime.now(UTC), secret, ports)
    logger.info("answer comment received", extra={"survey_id": invitation.survey_id, "score": score,
                                                  "with_comment": text is not None})  # fmt: skip
    return Page(200, pages.saved(lang))


def decide(clicks: list[Click], click: Click) -> str:
    """`burst` (a scanner: record nothing), `superseded` (a later click near it wins) or `record`."""
    near = [c for c in clicks if abs((c.at - click.at).total_seconds()) <= BURST_SECONDS]
    if len({c.score for c in near} | {click.score}) >= BURST_SCORES:
        return "burst"
    if any(c.at > click.at for c in near):
        return "superseded"
    return "record"


def commit(held: HeldClick, secret: AppSecret, ports: AnswerPorts) -> str:
    """Record a held click unless it was part of a scanner's burst or a later click superseded it."""
    invitation = links.read_verified(held.token)  # verified when it was clicked; receive() checks it once more
    decision = decide(ports.ledger.clicks(invitation.survey_id), Click(held.at, held.score))
    if decision == "record":
        try:
            _record(held.token, invitation, held.score, None, held.at, secret, ports)
        except NpsloopError as exc:  # expired in the seconds it was held, say: nothing a retry can change
            decision = f"refused ({exc.status})"
    logger.info("answer click decided", extra={"survey_id": invitation.survey_id, "score": held.score,
                                               "decision": decision})  # fmt: skip
    return decision


def _record(token: str, invitation: Invitation, score: int, comment: str | None, at: datetime, secret: AppSecret,
            ports: AnswerPorts) -> Outcome:  # fmt: skip
    """The answer as a delivery of source `email`, through ingest like any webhook; a comment given earlier stays."""
    if comment is None:
        stored = ports.store.get(invitation.response_id)
        comment = stored.response.comment if stored else None
    body = {"token": token, "score": score} | ({"comment": comment} if comment else {})
    delivery = Delivery("email", json.dumps(body).encode(), {"content-type": "application/json"}, at)
    return receive(delivery, secret=secret, archive=ports.archive, store=ports.store,
                   max_body=MAX_BODY_BYTES)  # fmt: skip
