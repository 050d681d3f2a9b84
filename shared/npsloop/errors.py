"""Typed errors: each says what went wrong in words a sender can act on, and carries its HTTP status."""

from __future__ import annotations


class NpsloopError(Exception):
    """Base of every error npsloop raises on purpose."""

    status = 500

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field

    def body(self) -> dict[str, str]:
        out = {"error": self.message}
        if self.field:
            out["field"] = self.field
        return out


class MalformedPayloadError(NpsloopError):
    status = 400


class SignatureError(NpsloopError):
    status = 401


class UnknownSourceError(NpsloopError):
    status = 404


class PayloadTooLargeError(NpsloopError):
    status = 413


class UnsupportedMediaTypeError(NpsloopError):
    status = 415


class UnprocessableError(NpsloopError):
    """The payload is well formed but cannot be mapped to an NPS response (a score of 11, say)."""

    status = 422


class UpstreamUnavailableError(NpsloopError):
    """A service npsloop must ask first (Salesforce) did not answer: nothing was done, the caller may send again."""

    status = 503


class NoNpsAnswerError(Exception):
    """The delivery is genuine but holds no NPS answer (a partial response, another question's event): not an error,
    it is archived and acknowledged as ignored."""


class FetchError(Exception):
    """A survey tool's API did not give a response it holds (down, throttled, credentials wrong): try again later."""


class ConfigurationError(NpsloopError):
    """npsloop itself is set up wrongly (a missing setting or secret): the operator must act, not the sender."""

    status = 500
