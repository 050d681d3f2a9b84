"""Our own survey emails (POST /surveys/send): an answer given through a one-click link or the comment form after it,
as `{"token": "<the link's token>", "score": 0-10, "comment": "..."}`. The token is the authentication (HMAC with the
secret's `notify.token_key`, purpose "survey") and carries who answered; the response id is `email:<survey id>`, so
every answer to one invitation updates the same response. No field mapping applies."""

from __future__ import annotations

from collections.abc import Mapping

from npsloop import tokens
from npsloop.errors import SignatureError
from npsloop.mapping import SourceMapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import JSON, Delivery, canonical, json_object
from npsloop.surveys import links

NAME = "email"
CONTENT_TYPES = (JSON,)


def verify(delivery: Delivery, secret: Mapping[str, str]) -> None:
    """The token in the body must be genuine, made for answers, and not expired."""
    token = json_object(delivery.body).get("token")
    try:
        links.read(token if isinstance(token, str) else None, secret.get("token_key", ""))
    except tokens.TokenError as exc:
        raise SignatureError(f"the answer link's token is not valid: {exc.message}", field="token") from None


def parse(delivery: Delivery, mapping: SourceMapping | None = None) -> CanonicalResponse:
    """Verified before (or archived after verifying): the invitation is read from the token without a key."""
    data = json_object(delivery.body)
    try:
        invitation = links.read_verified(str(data.get("token", "")))
    except tokens.TokenError:
        raise SignatureError("the answer link's token is not valid", field="token") from None
    return canonical({
        "response_id": invitation.response_id, "source": NAME, "score": data.get("score"),
        "comment": data.get("comment"), "email": invitation.email, "name": invitation.name,
        "contact_id": invitation.contact_id, "account_id": invitation.account_id,
        "touchpoint": invitation.touchpoint, "locale": invitation.locale, "attributes": invitation.context,
    })  # fmt: skip
