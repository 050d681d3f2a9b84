"""notify's work per SQS batch: hook fan-out, routed alerts, and the promoter thank-you.

ResponseScored brings fan-out and alerts. The thank-you waits for ResponseLinked when an org is
configured: the sync's own Contact lookup learned HasOptedOutOfEmail and consent, so the email costs Salesforce no
call of its own (without an org it goes out on ResponseScored).

Each side effect is done once per response (a `done#` ledger in the Notify table), so a retried message repeats
only what failed. Historical events (backfills, imports) are recorded nowhere and trigger nothing: that check is
`live()`, and it is the only one.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from aws_lambda_powertools import Logger

from npsloop.hooks.payload import events_for, flat, webhook_id
from npsloop.hooks.store import HookStore
from npsloop.models import LinkedEvent
from npsloop.notify import followup, routing
from npsloop.notify.channels import Alert, Channel, ChannelError
from npsloop.notify.config import ACCOUNT_OWNER, NotifyConfig
from npsloop.notify.contacts import ContactFacts, lookup
from npsloop.notify.email import Mailer
from npsloop.salesforce.client import SalesforceClient, SalesforceError
from npsloop.scoring import Category
from npsloop.stores.notify_state import NotifyState, contact_key
from npsloop.stores.optouts import OptOutStore
from npsloop.stores.queue import Queue

logger = Logger(child=True)
SCORED, LINKED = "ResponseScored", "ResponseLinked"


@dataclass
class NotifyPorts:
    state: NotifyState
    hooks: HookStore
    deliveries: Queue
    optouts: OptOutStore
    channels: Mapping[str, Channel] = field(default_factory=dict)
    mailer: Mailer | None = None
    salesforce: Callable[[], SalesforceClient] | None = None  # None: no org configured
    public_url: str | None = None
    salesforce_url: str | None = None  # base of record links


@dataclass
class Item:
    message_id: str
    kind: str  # the event's detail-type
    event: LinkedEvent
    contact: str | None
    previous: str | None
    done: set[str]

    @property
    def rid(self) -> str:
        return self.event.response.response_id

    @property
    def turned_detractor(self) -> bool:
        return self.event.category is Category.DETRACTOR and self.previous in ("Promoter", "Passive")


Detail = tuple[str, str, LinkedEvent]  # (message id, detail-type, detail)


def live(details: Sequence[Detail]) -> list[Detail]:
    """The one place historical events are held back: they never alert, email or reach Zapier."""
    return [d for d in details if not d[2].historical]


def notify_batch(details: Sequence[Detail], config: NotifyConfig, ports: NotifyPorts) -> set[str]:
    """Returns the message ids that must come back (a retryable channel failed for them)."""
    todo = [d for d in live(details) if d[1] != LINKED or _may_thank(d[2], config)]  # a link matters to the thank-you
    keys = [contact_key(e.response.email, e.response.contact_id) for _, _, e in todo]
    observed = iter(ports.state.observe([(key, e.response.response_id, e.category.value, e.period_time)
                                         for key, (_, kind, e) in zip(keys, todo, strict=True)
                                         if key and kind != LINKED]))  # fmt: skip
    done = ports.state.done(e.response.response_id for _, _, e in todo)
    items = [Item(mid, kind, e, key, next(observed).previous if key and kind != LINKED else None,
                  done.get(e.response.response_id, set())) for key, (mid, kind, e) in zip(keys, todo, strict=True)]
    scored = [i for i in items if i.kind != LINKED]
    facts = _owner_facts(scored, config, ports)
    opted_out = ports.optouts.opted_out(i.event.response.email for i in items if _wants_followup(i, config, ports)
                                        and i.event.response.email)  # fmt: skip
    failed: set[str] = set()
    for item in items:
        try:
            if item.kind != LINKED:
                _fan_out(item, ports)
                _alert(item, config, ports, facts.get(item.rid))
            _follow_up(item, config, ports, (item.event.response.email or "").lower() in opted_out)
        except ChannelError as exc:
            logger.warning("notify step failed", extra={"response_id": item.rid, "problem": str(exc),
                                                        "retryable": exc.retryable})  # fmt: skip
            if exc.retryable:
                failed.add(item.message_id)
    return failed


# --- Zapier: one queued delivery per subscription and event -----------------------------------------------------
def _fan_out(item: Item, ports: NotifyPorts) -> None:
    """One queued delivery per subscription and event."""
    todo = [k for k in events_for(item.event) if f"hook:{k}" not in item.done]
    subs = ports.hooks.for_events(todo) if todo else []
    if not subs:
        return  # nothing subscribed: nothing to remember (a later retry finds what is subscribed then)
    payload = flat(item.event, item.previous)
    bodies = [json.dumps({"webhook_id": webhook_id(s.id, item.rid, s.event), "subscription_id": s.id,
                          "event": s.event, "payload": {**payload, "event": s.event}}) for s in subs]  # fmt: skip
    ports.deliveries.send(bodies)
    ports.state.mark_done(item.rid, *(f"hook:{kind}" for kind in todo))
    logger.info("hook deliveries queued", extra={"response_id": item.rid, "deliveries": len(subs)})


# --- alerts ----------------------------------------------------------------------------------------------------
def _record_urls(item: Item, ports: NotifyPorts, facts: ContactFacts | None) -> tuple[str | None, str | None]:
    if not ports.salesforce_url:
        return None, None
    base = ports.salesforce_url.rstrip("/")
    contact = (facts.contact_id if facts else None) or item.event.response.contact_id
    account = (facts.account_id if facts else None) or item.event.response.account_id
    return (f"{base}/{contact}" if contact else None), (f"{base}/{account}" if account else None)


def _alert(item: Item, config: NotifyConfig, ports: NotifyPorts, facts: ContactFacts | None) -> None:
    routes = routing.route(item.event, item.turned_detractor, config.alert_rules(), facts.account_id if facts else None)
    if not routes:
        return
    contact_url, account_url = _record_urls(item, ports, facts)
    sent: list[str] = []
    for name, rules in routes.items():
        channel = ports.channels.get(name)
        if channel is None or f"alert:{name}" in item.done:
            continue
        recipients: tuple[str, ...] = ()
        if name == "email":
            wanted = [r for rule in rules for r in (rule.recipients or config.alert_recipients)]
            owner = facts.owner_email if facts else None
            recipients = tuple(dict.fromkeys(owner if r == ACCOUNT_OWNER else r for r in wanted
                                             if r != ACCOUNT_OWNER or owner))  # fmt: skip
            if not recipients:
                continue
        alert = Alert(item.event, item.turned_detractor, item.previous, contact_url, account_url, recipients)
        try:
            channel.send(alert)
        except ChannelError as exc:
            if exc.retryable:
                raise
            logger.warning("alert refused for good", extra={"response_id": item.rid, "channel": name,
                                                            "problem": str(exc)})  # fmt: skip
        ports.state.mark_done(item.rid, f"alert:{name}")
        sent.append(name)
    if sent:
        r = item.event.response
        label = "turned detractor alert" if item.turned_detractor else f"{item.event.category.value.lower()} alert"
        logger.info(label, extra={"response_id": r.response_id, "score": r.score, "source": r.source,
                                  "touchpoint": r.touchpoint, "channels": sent})  # fmt: skip


# --- the promoter thank-you ------------------------------------------------------------------------------------
def _may_thank(event: LinkedEvent, config: NotifyConfig) -> bool:
    return event.category is Category.PROMOTER and config.followup.enabled


def _wants_followup(item: Item, config: NotifyConfig, ports: NotifyPorts) -> bool:
    waits_for = LINKED if ports.salesforce is not None else SCORED  # with an org, the sync's lookup comes first
    return (item.kind == waits_for and _may_thank(item.event, config) and ports.mailer is not None
            and bool(config.token_key and ports.public_url and item.event.response.email and item.contact)
            and "followup" not in item.done)  # fmt: skip


def _owner_facts(items: list[Item], config: NotifyConfig, ports: NotifyPorts) -> dict[str, ContactFacts]:
    """One Salesforce query for the batch, only when an email alert goes to the account owner."""
    owner_routes = any(ACCOUNT_OWNER in rule.recipients for rule in config.rules if rule.channel == "email")
    needed = [i.event for i in items
              if owner_routes and routing.route(i.event, i.turned_detractor, config.rules).get("email")]  # fmt: skip
    if not needed or ports.salesforce is None:
        return {}
    try:
        return lookup(needed, ports.salesforce())
    except SalesforceError as exc:
        logger.warning("Salesforce contact lookup failed; owner alerts go to the other recipients",
                       extra={"code": exc.code})  # fmt: skip
        return {}


def _follow_up(item: Item, config: NotifyConfig, ports: NotifyPorts, opted_out: bool) -> None:
    if not _wants_followup(item, config, ports):
        return
    assert ports.mailer and config.token_key and ports.public_url and item.contact  # noqa: S101 (_wants_followup)
    r = item.event.response
    reason = "opted out" if opted_out else "HasOptedOutOfEmail" if item.event.email_opted_out else None
    if reason is None and not ports.state.claim_followup(item.contact, r.response_id,
                                                         timedelta(days=config.followup.cooldown_days)):  # fmt: skip
        reason = "cooldown"
    if reason:  # nothing sent, nothing to remember: a retry finds the same opt-out or the slot still taken
        logger.info("promoter follow-up skipped", extra={"response_id": r.response_id, "reason": reason})
        return
    assert r.email  # noqa: S101
    review = None
    if config.followup.review_requests and followup.has_consent(item.event, config.followup,
                                                                item.event.marketing_consent):  # fmt: skip
        review = config.followup.review_url(r.touchpoint)
    lang = followup.language(r.locale)
    link = followup.unsubscribe_url(ports.public_url, r.email, config.token_key, lang)
    mail = followup.compose(item.event, config.followup, link, review)
    try:
        ports.mailer.send(mail)
    except ChannelError:
        ports.state.release_followup(item.contact, r.response_id)
        raise
    ports.state.mark_done(r.response_id, "followup")
    logger.info("promoter follow-up sent", extra={"response_id": r.response_id, "language": lang,
                                                  "review_request": review is not None})  # fmt: skip
