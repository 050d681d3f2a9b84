"""Who a survey invitation is for, and the signed answer links that carry it: `<public url>/r/<token>?score=N`.

The token (npsloop.tokens, purpose "survey") holds the invitation itself (survey id, address, name, Salesforce ids,
touchpoint, locale, context) and its expiry, so an answer needs no look-up and a changed character makes it invalid.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from npsloop import tokens
from npsloop.models import OptionalText, is_email

SURVEY_PURPOSE = "survey"
MAX_CONTEXT = 20
ContextValue = Annotated[str, Field(max_length=255)] | int | float | bool


class Recipient(BaseModel):
    """One entry of POST /surveys/send's `recipients`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Annotated[str, Field(max_length=254)]
    name: OptionalText = None
    contact_id: OptionalText = None
    account_id: OptionalText = None
    touchpoint: OptionalText = None
    locale: OptionalText = None
    context: dict[Annotated[str, Field(min_length=1, max_length=64)], ContextValue] = Field(
        default_factory=dict, max_length=MAX_CONTEXT)  # fmt: skip

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str) -> str:
        value = value.strip()
        if not is_email(value):
            raise ValueError("not an email address")
        return value


class Invitation(Recipient):
    """A recipient with the id of its survey: what is queued, and what each answer link carries."""

    survey_id: Annotated[str, Field(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]

    @property
    def response_id(self) -> str:
        """The one response every answer to this invitation updates."""
        return f"email:{self.survey_id}"


class SurveyJob(Invitation):
    """What the SurveyQueue carries: an invitation to mail, or (reminder) its one reminder."""

    reminder: bool = False

    @property
    def invitation(self) -> Invitation:
        return Invitation.model_validate(self.model_dump(exclude={"reminder"}))


def answer_token(invitation: Invitation, key: str, ttl: timedelta) -> str:
    payload = invitation.model_dump(mode="json", exclude_none=True, exclude_defaults=True)  # short links
    return tokens.sign(payload, key, purpose=SURVEY_PURPOSE, ttl=ttl)


def answer_url(public_url: str, token: str, score: int) -> str:
    return f"{public_url.rstrip('/')}/r/{token}?score={score}"


def _invitation(payload: dict[str, Any]) -> Invitation:
    try:
        return Invitation.model_validate(payload)
    except ValidationError:
        raise tokens.TokenError("the link is not valid") from None


def read(token: str | None, key: str) -> Invitation:
    """The invitation of a genuine, unexpired answer link; TokenError (TokenExpiredError when expired) otherwise."""
    return _invitation(tokens.verify(token, key, purpose=SURVEY_PURPOSE))


def read_verified(token: str) -> Invitation:
    """The invitation of a link verified earlier (an archived delivery being replayed), without checking it again."""
    return _invitation(tokens.peek(token))
