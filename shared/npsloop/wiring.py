"""Cached factories that build each function's ports from its settings, once per container."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from npsloop.config import (
    AnswerSurveySettings,
    DeliverSettings,
    EmailFeedbackSettings,
    FetchSettings,
    HooksApiSettings,
    IngestSettings,
    NotifySettings,
    RemindSurveysSettings,
    ReportsSettings,
    ScoreSettings,
    SendSurveySettings,
    SurveysApiSettings,
    SyncSettings,
    UnsubscribeSettings,
    _WriterSettings,
    settings,
)

# Each factory imports the ports it builds, so a function pays at cold start only for the modules it uses.
if TYPE_CHECKING:
    from npsloop.analysis.service import SentimentPort
    from npsloop.analysis.themes import Taxonomy
    from npsloop.apikeys import ApiKeyStore
    from npsloop.dashboard.service import Dashboard
    from npsloop.hooks.store import HookStore
    from npsloop.mapping import MappingDocument
    from npsloop.salesforce.client import SalesforceClient
    from npsloop.salesforce.service import Pacing, SyncPorts
    from npsloop.salesforce.sync import SyncConfig
    from npsloop.secrets import AppSecret
    from npsloop.stores.aggregates import AggregateStore
    from npsloop.stores.archive import RawArchive
    from npsloop.stores.bus import EventBus
    from npsloop.stores.fetch_queue import FetchQueue
    from npsloop.stores.notify_state import NotifyState
    from npsloop.stores.optouts import OptOutStore
    from npsloop.stores.queue import Queue
    from npsloop.stores.responses import AccountCounts, ResponseStore
    from npsloop.stores.scored import ScoredResponses
    from npsloop.stores.surveys import SurveyLedger


@dataclass(frozen=True)
class Reports:
    settings: ReportsSettings
    aggregates: AggregateStore
    accounts: AccountCounts
    scored: ScoredResponses
    keys: ApiKeyStore
    taxonomy: Taxonomy
    sentiment_enabled: bool


def secret(arn: str) -> AppSecret:
    from npsloop.secrets import app_secret

    return app_secret(arn)


def mapping(parameter_name: str | None) -> MappingDocument:
    """The field mapping document (cached for a few minutes by npsloop.aws.parameter)."""
    from npsloop.mapping import load_mapping

    return load_mapping(parameter_name)


def response_store(s: _WriterSettings) -> ResponseStore:
    """The Responses table as a writer needs it: each revision stored with the configured segments and its themes."""
    from npsloop.stores.responses import Counting, ResponseStore

    return ResponseStore(s.responses_table, counting=Counting(s.segments, _themes_of(s.theme_taxonomy)))


def _themes_of(override: str) -> Callable[[str | None], list[str]]:
    """The comment's themes; the taxonomy is built on the first comment (many responses have none)."""
    return lambda comment: taxonomy(override).themes_of(comment) if comment else []


@cache
def taxonomy(override: str) -> Taxonomy:
    from npsloop.analysis.themes import Taxonomy

    return Taxonomy.configured(override)


@cache
def ingest() -> tuple[IngestSettings, RawArchive, ResponseStore, FetchQueue]:
    from npsloop.stores.archive import RawArchive
    from npsloop.stores.fetch_queue import FetchQueue

    s = settings(IngestSettings)
    return s, RawArchive(s.archive_stream, s.unauthenticated_archive_stream), response_store(s), FetchQueue(
        s.fetch_queue_url)  # fmt: skip


@cache
def fetch() -> tuple[FetchSettings, RawArchive, ResponseStore, FetchQueue]:
    from npsloop.stores.archive import RawArchive
    from npsloop.stores.fetch_queue import FetchQueue

    s = settings(FetchSettings)
    return s, RawArchive(s.archive_stream), response_store(s), FetchQueue(s.fetch_queue_url)


@cache
def score() -> tuple[ResponseStore, AggregateStore, EventBus]:
    from npsloop.stores.aggregates import AggregateStore
    from npsloop.stores.bus import EventBus
    from npsloop.stores.responses import ResponseStore

    s = settings(ScoreSettings)
    return (
        ResponseStore(s.responses_table),
        AggregateStore(s.aggregates_table),
        EventBus(s.event_bus_name),
    )


def salesforce() -> tuple[SyncSettings, SalesforceClient]:
    s = settings(SyncSettings)
    return s, _salesforce_client(secret(s.secret_arn).salesforce_credentials(), s.salesforce_api_version)


def sync() -> tuple[SyncPorts, SyncConfig, Pacing]:
    """The sync's ports (its Salesforce client re-made only when the secret's credentials change)."""
    from npsloop.salesforce.service import Pacing
    from npsloop.salesforce.sync import SyncConfig

    s, api = salesforce()
    consent_field = secret(s.secret_arn).notify.followup.consent.salesforce_field  # learned for the thank-you
    return (
        _sync_stores(s)(api),
        SyncConfig(s.sync_unmatched, s.salesforce_person_accounts, consent_field=consent_field),
        Pacing(s.salesforce_api_share, s.sync_backoff_seconds, s.sync_backoff_max_seconds),
    )


@cache
def _sync_stores(s: SyncSettings):  # type: ignore[no-untyped-def]
    from npsloop.salesforce.service import SyncPorts
    from npsloop.stores.bus import EventBus
    from npsloop.stores.queue import Queue
    from npsloop.stores.responses import AccountCounts, ResponseStore

    dlq, queue, responses = Queue(s.sync_dlq_url), Queue(s.sync_queue_url), ResponseStore(s.responses_table)
    accounts, bus = AccountCounts(s.responses_table), EventBus(s.event_bus_name)
    return lambda api: SyncPorts(api, dlq, queue, responses, accounts, bus)


@cache
def _salesforce_client(creds, api_version: str) -> SalesforceClient:  # type: ignore[no-untyped-def]
    from npsloop.salesforce.client import SalesforceClient

    return SalesforceClient(creds, api_version)


def notify_secret() -> AppSecret:
    return secret(settings(NotifySettings).secret_arn)


def notify():  # type: ignore[no-untyped-def]
    """The notify ports for this invocation (stores cached; channels follow the secret, which may rotate)."""
    from npsloop.notify.email import EmailChannel, Mailer
    from npsloop.notify.service import NotifyPorts
    from npsloop.notify.slack import SlackChannel
    from npsloop.notify.teams import TeamsChannel

    s = settings(NotifySettings)
    app = secret(s.secret_arn)
    cfg = app.notify
    state, hooks, deliveries, optouts = _notify_stores()
    mailer = Mailer(cfg.email.sender, reply_to=cfg.email.reply_to,
                    configuration_set=s.ses_configuration_set) if cfg.email.sender else None  # fmt: skip
    channels: dict = {}
    if cfg.slack_webhook_url:
        channels["slack"] = SlackChannel(cfg.slack_webhook_url)
    if cfg.teams_webhook_url:
        channels["teams"] = TeamsChannel(cfg.teams_webhook_url)
    if mailer:
        channels["email"] = EmailChannel(mailer)
    sf = None
    if app.salesforce:
        creds = app.salesforce_credentials()
        sf = lambda: _salesforce_client(creds, s.salesforce_api_version)  # noqa: E731
    sf_url = cfg.salesforce_instance_url or (app.salesforce or {}).get("login_url")
    ports = NotifyPorts(state, hooks, deliveries, optouts, channels, mailer, sf, cfg.public_url or s.public_api_url,
                        sf_url)  # fmt: skip
    return cfg, ports


@cache
def _notify_stores() -> tuple[NotifyState, HookStore, Queue, OptOutStore]:
    from npsloop.hooks.store import HookStore
    from npsloop.stores.notify_state import NotifyState
    from npsloop.stores.optouts import OptOutStore
    from npsloop.stores.queue import Queue

    s = settings(NotifySettings)
    return (NotifyState(s.notify_table), HookStore(s.hooks_table), Queue(s.deliveries_queue_url),
            OptOutStore(s.opt_outs_table))  # fmt: skip


@cache
def hooks_api() -> tuple[HooksApiSettings, ApiKeyStore, HookStore, ScoredResponses]:
    from npsloop.apikeys import ApiKeyStore
    from npsloop.hooks.store import HookStore
    from npsloop.stores.scored import ScoredResponses

    s = settings(HooksApiSettings)
    return s, ApiKeyStore(s.api_keys_table), HookStore(s.hooks_table), ScoredResponses(s.responses_table)


@cache
def deliver() -> tuple[DeliverSettings, HookStore, NotifyState, Queue, Queue]:
    from npsloop.hooks.store import HookStore
    from npsloop.stores.notify_state import NotifyState
    from npsloop.stores.queue import Queue

    s = settings(DeliverSettings)
    return (s, HookStore(s.hooks_table), NotifyState(s.notify_table), Queue(s.deliveries_queue_url),
            Queue(s.deliveries_dlq_url))  # fmt: skip


@cache
def unsubscribe() -> tuple[UnsubscribeSettings, OptOutStore]:
    from npsloop.stores.optouts import OptOutStore

    s = settings(UnsubscribeSettings)
    return s, OptOutStore(s.opt_outs_table)


def surveys_api():  # type: ignore[no-untyped-def]
    """(settings, API keys, the secret's notify config, the send ports, the org whose Outbound Messages are accepted);
    the Salesforce client follows the secret."""
    from npsloop.surveys.send import SendPorts

    s, keys, optouts, ledger, queue = _surveys_api_stores()
    app = secret(s.secret_arn)
    sf = None
    if app.salesforce:
        creds = app.salesforce_credentials()
        sf = lambda: _salesforce_client(creds, s.salesforce_api_version)  # noqa: E731
    return s, keys, app.notify, SendPorts(optouts, ledger, queue, sf), app.salesforce_organization_id


@cache
def _surveys_api_stores() -> tuple[SurveysApiSettings, ApiKeyStore, OptOutStore, SurveyLedger, Queue]:
    from npsloop.apikeys import ApiKeyStore
    from npsloop.stores.optouts import OptOutStore
    from npsloop.stores.queue import Queue
    from npsloop.stores.surveys import SurveyLedger

    s = settings(SurveysApiSettings)
    return (s, ApiKeyStore(s.api_keys_table), OptOutStore(s.opt_outs_table), SurveyLedger(s.notify_table),
            Queue(s.survey_queue_url))  # fmt: skip


def send_survey():  # type: ignore[no-untyped-def]
    """The send_survey ports for this invocation (the mailer follows the secret's sender)."""
    from npsloop.notify.email import Mailer
    from npsloop.surveys.deliver import DeliverPorts

    s = settings(SendSurveySettings)
    cfg = secret(s.secret_arn).notify
    mailer = Mailer(cfg.email.sender, reply_to=cfg.email.reply_to,
                    configuration_set=s.ses_configuration_set) if cfg.email.sender else None  # fmt: skip
    state, optouts, ledger = _send_survey_stores()
    return cfg, DeliverPorts(state, optouts, mailer, cfg.public_url or s.public_api_url, ledger, s.survey_reminder_days)


@cache
def _send_survey_stores() -> tuple[NotifyState, OptOutStore, SurveyLedger]:
    from npsloop.stores.notify_state import NotifyState
    from npsloop.stores.optouts import OptOutStore
    from npsloop.stores.surveys import SurveyLedger

    s = settings(SendSurveySettings)
    return NotifyState(s.notify_table), OptOutStore(s.opt_outs_table), SurveyLedger(s.notify_table)


@cache
def remind_surveys():  # type: ignore[no-untyped-def]
    """The reminder run's ports: the planned reminders, the responses (was it answered?), the SurveyQueue."""
    from npsloop.stores.queue import Queue
    from npsloop.stores.responses import ResponseStore
    from npsloop.stores.surveys import SurveyLedger
    from npsloop.surveys.remind import RemindPorts

    s = settings(RemindSurveysSettings)
    return RemindPorts(SurveyLedger(s.notify_table), ResponseStore(s.responses_table), Queue(s.survey_queue_url))


@cache
def answer_survey():  # type: ignore[no-untyped-def]
    """(settings, the answer ports) of the answer pages and record_click."""
    from npsloop.stores.archive import RawArchive
    from npsloop.stores.queue import Queue
    from npsloop.stores.surveys import SurveyLedger
    from npsloop.surveys.answer import AnswerPorts

    s = settings(AnswerSurveySettings)
    archive = RawArchive(s.archive_stream, s.unauthenticated_archive_stream)
    return s, AnswerPorts(SurveyLedger(s.notify_table), Queue(s.click_queue_url), archive, response_store(s))


@cache
def email_feedback() -> OptOutStore:
    from npsloop.stores.optouts import OptOutStore

    return OptOutStore(settings(EmailFeedbackSettings).opt_outs_table)


@cache
def sentiment() -> SentimentPort | None:
    """Amazon Comprehend when SENTIMENT_ANALYSIS=comprehend, else None (the themes come with each stored revision)."""
    if settings(ScoreSettings).sentiment_analysis.strip().lower() != "comprehend":
        return None
    from npsloop.analysis.comprehend import ComprehendSentiment

    return ComprehendSentiment()


@cache
def reports() -> Reports:
    from npsloop.analysis.themes import Taxonomy
    from npsloop.apikeys import ApiKeyStore
    from npsloop.stores.aggregates import AggregateStore
    from npsloop.stores.responses import AccountCounts
    from npsloop.stores.scored import ScoredResponses

    s = settings(ReportsSettings)
    sentiment = s.sentiment_analysis.strip().lower() == "comprehend"
    keys = ApiKeyStore(s.api_keys_table)
    return Reports(s, AggregateStore(s.aggregates_table), AccountCounts(s.responses_table),
                   ScoredResponses(s.responses_table), keys, Taxonomy.configured(s.theme_taxonomy),
                   sentiment)  # fmt: skip


@cache
def dashboard() -> Dashboard:
    from npsloop.aws import client
    from npsloop.dashboard.service import Dashboard  # only the reports function renders pages
    from npsloop.sessions import Sessions

    r = reports()
    secret = client("secretsmanager").get_secret_value(SecretId=r.settings.session_secret_arn)["SecretString"]
    return Dashboard(r.aggregates, r.accounts, r.scored, r.keys, Sessions(secret), r.taxonomy, r.settings.segments,
                     r.sentiment_enabled)  # fmt: skip
