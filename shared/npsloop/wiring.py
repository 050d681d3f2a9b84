"""Cached factories that build each function's ports from its settings, once per container."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING

from npsloop.analysis.comprehend import ComprehendSentiment
from npsloop.analysis.service import Analyzer
from npsloop.analysis.themes import Taxonomy
from npsloop.apikeys import ApiKeyStore
from npsloop.aws import client
from npsloop.config import IngestSettings, NotifySettings, ReportsSettings, ScoreSettings, SyncSettings, settings
from npsloop.salesforce.client import SalesforceClient
from npsloop.secrets import AppSecret, app_secret
from npsloop.stores.aggregates import AggregateStore
from npsloop.stores.archive import RawArchive
from npsloop.stores.bus import EventBus
from npsloop.stores.responses import ResponseStore
from npsloop.stores.scored import ScoredResponses

if TYPE_CHECKING:
    from npsloop.dashboard.service import Dashboard


@dataclass(frozen=True)
class Reports:
    settings: ReportsSettings
    aggregates: AggregateStore
    scored: ScoredResponses
    keys: ApiKeyStore
    taxonomy: Taxonomy
    sentiment_enabled: bool


def secret(arn: str) -> AppSecret:
    return app_secret(arn)


@cache
def ingest() -> tuple[IngestSettings, RawArchive, ResponseStore, EventBus]:
    s = settings(IngestSettings)
    return s, RawArchive(s.archive_bucket), ResponseStore(s.responses_table), EventBus(s.event_bus_name)


@cache
def score() -> tuple[ResponseStore, AggregateStore, EventBus]:
    s = settings(ScoreSettings)
    return (
        ResponseStore(s.responses_table),
        AggregateStore(s.responses_table, s.aggregates_table),
        EventBus(s.event_bus_name),
    )


def salesforce() -> tuple[SyncSettings, SalesforceClient]:
    s = settings(SyncSettings)
    return s, _salesforce_client(secret(s.secret_arn).salesforce_credentials(), s.salesforce_api_version)


@cache
def _salesforce_client(creds, api_version: str) -> SalesforceClient:  # type: ignore[no-untyped-def]
    return SalesforceClient(creds, api_version)


def notify_secret() -> AppSecret:
    return secret(settings(NotifySettings).secret_arn)


@cache
def analyzer() -> Analyzer:
    """Themes from the configured taxonomy; sentiment only when SENTIMENT_ANALYSIS=comprehend."""
    s = settings(ScoreSettings)
    comprehend = ComprehendSentiment() if s.sentiment_analysis.strip().lower() == "comprehend" else None
    return Analyzer(Taxonomy.configured(s.theme_taxonomy), comprehend)


def counted_segments() -> tuple[str, ...]:
    return settings(ScoreSettings).segments


@cache
def reports() -> Reports:
    s = settings(ReportsSettings)
    sentiment = s.sentiment_analysis.strip().lower() == "comprehend"
    keys = ApiKeyStore(s.api_keys_table)
    return Reports(s, AggregateStore(s.responses_table, s.aggregates_table), ScoredResponses(s.responses_table), keys,
                   Taxonomy.configured(s.theme_taxonomy), sentiment)  # fmt: skip


@cache
def dashboard() -> Dashboard:
    from npsloop.dashboard.service import Dashboard  # only the reports function renders pages
    from npsloop.sessions import Sessions

    r = reports()
    secret = client("secretsmanager").get_secret_value(SecretId=r.settings.session_secret_arn)["SecretString"]
    return Dashboard(r.aggregates, r.scored, r.keys, Sessions(secret), r.taxonomy, r.settings.segments,
                     r.sentiment_enabled)  # fmt: skip
