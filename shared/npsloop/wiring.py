"""Cached factories that build each function's ports from its settings, once per container."""

from __future__ import annotations

from functools import cache

from npsloop.config import FetchSettings, IngestSettings, NotifySettings, ScoreSettings, SyncSettings, settings
from npsloop.mapping import MappingDocument, load_mapping
from npsloop.salesforce.client import SalesforceClient
from npsloop.salesforce.service import Pacing, SyncPorts
from npsloop.salesforce.sync import SyncConfig
from npsloop.secrets import AppSecret, app_secret
from npsloop.stores.aggregates import AggregateStore
from npsloop.stores.archive import RawArchive
from npsloop.stores.bus import EventBus
from npsloop.stores.dead_letters import DeadLetters
from npsloop.stores.fetch_queue import FetchQueue
from npsloop.stores.queue import WorkQueue
from npsloop.stores.responses import ResponseStore


def secret(arn: str) -> AppSecret:
    return app_secret(arn)


def mapping(parameter_name: str | None) -> MappingDocument:
    """The field mapping document (cached for a few minutes by the parameters utility)."""
    return load_mapping(parameter_name)


@cache
def ingest() -> tuple[IngestSettings, RawArchive, ResponseStore, EventBus, FetchQueue]:
    s = settings(IngestSettings)
    return (s, RawArchive(s.archive_bucket), ResponseStore(s.responses_table), EventBus(s.event_bus_name),
            FetchQueue(s.fetch_queue_url))  # fmt: skip


@cache
def fetch() -> tuple[FetchSettings, RawArchive, ResponseStore, EventBus, FetchQueue]:
    s = settings(FetchSettings)
    return (s, RawArchive(s.archive_bucket), ResponseStore(s.responses_table), EventBus(s.event_bus_name),
            FetchQueue(s.fetch_queue_url))  # fmt: skip


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


def sync() -> tuple[SyncPorts, SyncConfig, Pacing]:
    """The sync's ports (its Salesforce client re-made only when the secret's credentials change)."""
    s, api = salesforce()
    return (
        _sync_stores(s)(api),
        SyncConfig(s.sync_unmatched, s.salesforce_person_accounts),
        Pacing(s.salesforce_api_share, s.sync_backoff_seconds, s.sync_backoff_max_seconds),
    )


@cache
def _sync_stores(s: SyncSettings):  # type: ignore[no-untyped-def]
    dlq, queue, responses = DeadLetters(s.sync_dlq_url), WorkQueue(s.sync_queue_url), ResponseStore(s.responses_table)
    aggregates, bus = AggregateStore(s.responses_table, s.aggregates_table), EventBus(s.event_bus_name)
    return lambda api: SyncPorts(api, dlq, queue, responses, aggregates, bus)


@cache
def _salesforce_client(creds, api_version: str) -> SalesforceClient:  # type: ignore[no-untyped-def]
    return SalesforceClient(creds, api_version)


def notify_secret() -> AppSecret:
    return secret(settings(NotifySettings).secret_arn)
