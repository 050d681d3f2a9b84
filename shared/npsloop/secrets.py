"""The one Secrets Manager secret: per-source signing secrets, Salesforce credentials, alert channel URLs."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from npsloop.errors import ConfigurationError
from npsloop.notify.config import HooksConfig, NotifyConfig

CACHE_SECONDS = 300


class SalesforceSecret(BaseModel):
    """Credentials of the integration's connected app: JWT bearer when a private key is given, else client credentials.

    JWT bearer: `login_url` (https://login.salesforce.com, https://test.salesforce.com or My Domain), `client_id`
    (the consumer key), `username` (the integration user), `private_key` (PEM). Client credentials: `login_url`
    (the org's My Domain), `client_id`, `client_secret`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    login_url: str
    client_id: str
    client_secret: str = ""
    username: str | None = None
    private_key: str | None = None
    audience: str | None = None  # the JWT `aud`; derived from login_url when absent

    @property
    def flow(self) -> str:
        return "jwt" if self.private_key else "client_credentials"

    @property
    def jwt_audience(self) -> str:
        if self.audience:
            return self.audience
        sandbox = "test.salesforce.com" in self.login_url or ".sandbox." in self.login_url
        return "https://test.salesforce.com" if sandbox else "https://login.salesforce.com"


class AppSecret(BaseModel):
    """Shape of the secret: `{"sources": {"<source>": {"signing_secret": …}}, "salesforce": {…}, "notify": {…},
    "hooks": {…}}` (notify and hooks: npsloop.notify.config)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    sources: dict[str, dict[str, str]] = Field(default_factory=dict)
    salesforce: dict[str, Any] | None = None  # validated where it is used, so ingest never fails on it
    notify: NotifyConfig = Field(default_factory=NotifyConfig)
    hooks: HooksConfig = Field(default_factory=HooksConfig)

    def source(self, name: str) -> dict[str, str]:
        if name == "email":  # our own survey emails: their answer links are signed with the key of every email link
            return {"token_key": self.notify.token_key or ""}
        return self.sources.get(name, {})

    @property
    def salesforce_organization_id(self) -> str | None:
        """The org whose Outbound Messages are accepted (`salesforce.organization_id`, 15 or 18 characters)."""
        value = str((self.salesforce or {}).get("organization_id") or "").strip()
        return value or None

    def salesforce_credentials(self) -> SalesforceSecret:
        if not self.salesforce:
            raise ConfigurationError("the npsloop secret has no 'salesforce' credentials")
        try:
            creds = SalesforceSecret.model_validate(self.salesforce)
        except ValidationError as exc:
            missing = ", ".join(str(e["loc"][0]) for e in exc.errors())
            raise ConfigurationError(f"the npsloop secret's 'salesforce' lacks or mangles: {missing}") from None
        if creds.private_key and not creds.username:
            raise ConfigurationError("the npsloop secret's 'salesforce' has a private_key but no username (JWT flow)")
        return creds


def parse_secret(raw: Any) -> AppSecret:
    try:
        return AppSecret.model_validate(raw)
    except ValidationError as exc:
        where = ".".join(str(p) for p in exc.errors()[0]["loc"])
        raise ConfigurationError(f"the npsloop secret is malformed at '{where}': {exc.errors()[0]['msg']}") from None


def app_secret(secret_arn: str) -> AppSecret:
    """The secret, cached for a few minutes per container so a rotated value is picked up without a deploy."""
    from npsloop.aws import secret_json

    try:
        raw = secret_json(secret_arn, CACHE_SECONDS)
    except ValueError:
        raise ConfigurationError("the npsloop secret is not valid JSON") from None
    if _parsed.get(secret_arn, (None,))[0] is not raw:  # the cached object is handed out until it expires
        _parsed[secret_arn] = (raw, parse_secret(raw))
    return _parsed[secret_arn][1]


_parsed: dict[str, tuple[Any, AppSecret]] = {}
