"""The notify configuration: channels, routing rules, email sender, promoter follow-up; the secret's "notify" object.

Everything here lives in the npsloop secret under "notify" (webhook URLs and the token key are secrets; the rest
travels with them so one document configures the loop). Every field has a default, so `{}` is a valid
configuration: detractors are then alerted in every channel that has a URL or recipients, and promoter follow-up
runs once `email.sender` is set.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ChannelName = Literal["slack", "teams", "email"]
AlertKind = Literal["detractor", "passive", "promoter", "turned_detractor"]
ACCOUNT_OWNER = "account_owner"


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class AlertRule(_Config):
    """Send matching responses to `channel`. Empty lists match everything; all given conditions must match."""

    channel: ChannelName
    categories: list[AlertKind] = Field(default_factory=lambda: ["detractor"])
    touchpoints: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)  # Salesforce Account ids (15 or 18 characters)
    recipients: list[str] = Field(default_factory=list)  # email only: addresses and/or "account_owner"


class EmailConfig(_Config):
    sender: str | None = None  # a verified SES identity, e.g. "Acme <nps@acme.example>"
    reply_to: str | None = None


class ConsentRule(_Config):
    """Who has agreed to marketing: a response attribute (e.g. a hidden field) and/or a Contact checkbox."""

    attribute: str | None = "marketing_consent"
    values: list[str] = Field(default_factory=lambda: ["true", "yes", "1", "ja", "y"])
    salesforce_field: str | None = None  # e.g. "Marketing_Consent__c", read with HasOptedOutOfEmail


class FollowUpConfig(_Config):
    enabled: bool = True
    cooldown_days: float = Field(default=90, ge=0)  # at most one thank-you per contact in this many days
    company: str = "our team"  # signs the email
    review_requests: bool = False  # marketing: off by default, and only with consent when on
    review_urls: dict[str, str] = Field(default_factory=dict)  # touchpoint -> URL; "*" for any other touchpoint
    consent: ConsentRule = Field(default_factory=ConsentRule)

    def review_url(self, touchpoint: str | None) -> str | None:
        return self.review_urls.get(touchpoint or "") or self.review_urls.get("*")


class SurveysConfig(_Config):
    """Survey invitations (POST /surveys/send) and their one-click answer links."""

    company: str = "us"  # "How likely are you to recommend {company} ...?" and the signature
    cooldown_days: float = Field(default=90, ge=0)  # one invitation per address and touchpoint in this many days
    touchpoint_cooldown_days: dict[str, float] = Field(default_factory=dict)  # touchpoint -> days, over the default
    link_days: int = Field(default=30, ge=1, le=365)  # how long the answer links work
    # touchpoint -> days until the one reminder (0: none), over the template's SurveyReminderDays
    touchpoint_reminder_days: dict[str, int] = Field(default_factory=dict)

    def cooldown(self, touchpoint: str | None) -> float:
        return self.touchpoint_cooldown_days.get(touchpoint or "", self.cooldown_days)

    def reminder_days(self, touchpoint: str | None, default: int) -> int:
        """Days after an invitation its reminder is due when nobody answered; 0: no reminder."""
        return max(0, self.touchpoint_reminder_days.get(touchpoint or "", default))


class NotifyConfig(_Config):
    slack_webhook_url: str | None = None
    teams_webhook_url: str | None = None
    alert_recipients: list[str] = Field(default_factory=list)  # default email alert recipients
    token_key: str | None = None  # HMAC key of the links in emails (unsubscribe, answers); required to send email
    public_url: str | None = None  # the API's public base URL for those links; defaults to the deployed API
    salesforce_instance_url: str | None = None  # for record links; defaults to the one the token call returns
    rules: list[AlertRule] = Field(default_factory=list)
    email: EmailConfig = Field(default_factory=EmailConfig)
    followup: FollowUpConfig = Field(default_factory=FollowUpConfig)
    surveys: SurveysConfig = Field(default_factory=SurveysConfig)

    def alert_rules(self) -> list[AlertRule]:
        """The configured rules, or the default: detractors to every channel that is set up."""
        if self.rules:
            return list(self.rules)
        defaults = []
        if self.slack_webhook_url:
            defaults.append(AlertRule(channel="slack"))
        if self.teams_webhook_url:
            defaults.append(AlertRule(channel="teams"))
        if self.alert_recipients:
            defaults.append(AlertRule(channel="email"))
        return defaults


class HooksConfig(_Config):
    """Delivery of REST-hook events (the secret's "hooks" object)."""

    retry_base_seconds: float = Field(default=5, gt=0)  # then 2x per attempt, at most max_delay_seconds
    max_delay_seconds: int = Field(default=3600, ge=1, le=43_200)
    timeout_seconds: float = Field(default=10, gt=0)
    per_second: int = Field(default=30, ge=1)  # Zapier's limit per hook
