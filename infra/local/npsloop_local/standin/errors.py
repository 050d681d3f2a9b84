"""Salesforce error shapes: the top-level error array and the per-record errors inside SaveResults."""

from collections.abc import Iterable


class ApiError(Exception):
    """Ends a request with an HTTP error and the body [{"message", "errorCode", "fields"?}]."""

    def __init__(self, status: int, error_code: str, message: str, fields: list[str] | None = None):
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.message = message
        self.fields = fields

    def body(self) -> list[dict]:
        error: dict = {"message": self.message, "errorCode": self.error_code}
        if self.fields is not None:
            error["fields"] = self.fields
        return [error]


def not_found() -> ApiError:
    return ApiError(404, "NOT_FOUND", "The requested resource does not exist")


def item_error(status_code: str, message: str, fields: Iterable[str] = ()) -> dict:
    """One entry of a SaveResult's errors (the key is statusCode, not errorCode)."""
    return {"statusCode": status_code, "message": message, "fields": list(fields)}
