"""Settings each function reads from its environment, validated on first use (never at import)."""

from __future__ import annotations

import os
from functools import cache
from typing import Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from npsloop.errors import ConfigurationError

MAX_BODY_BYTES = 256 * 1024


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class IngestSettings(_Settings):
    responses_table: str
    archive_bucket: str
    event_bus_name: str
    secret_arn: str
    fetch_queue_url: str
    mapping_parameter: str | None = None
    max_body_bytes: int = MAX_BODY_BYTES


class FetchSettings(_Settings):
    responses_table: str
    archive_bucket: str
    event_bus_name: str
    secret_arn: str
    fetch_queue_url: str
    mapping_parameter: str | None = None


class ScoreSettings(_Settings):
    responses_table: str
    aggregates_table: str
    event_bus_name: str


class SyncSettings(_Settings):
    secret_arn: str
    sync_queue_url: str
    sync_dlq_url: str
    responses_table: str
    aggregates_table: str
    event_bus_name: str
    salesforce_api_version: str = "62.0"
    sync_unmatched: Literal["keep", "lead"] = "keep"
    salesforce_person_accounts: bool = False
    salesforce_api_share: float = Field(default=0.5, gt=0, le=1)  # slow down past this share of the daily calls
    sync_backoff_seconds: int = Field(default=5, ge=0)  # first retry delay; doubles with each receive
    sync_backoff_max_seconds: int = Field(default=900, ge=0)


class NotifySettings(_Settings):
    secret_arn: str


S = TypeVar("S", bound=_Settings)


@cache
def settings(kind: type[S]) -> S:
    """The settings of `kind` from upper-case environment variables named like its fields."""
    env = {name: os.environ[name.upper()] for name in kind.model_fields if name.upper() in os.environ}
    try:
        return kind(**env)
    except ValidationError as exc:
        problems = ", ".join(f"{str(e['loc'][0]).upper()} ({e['msg']})" for e in exc.errors())
        raise ConfigurationError(f"environment is incomplete: {problems}") from None
