"""What every HTTP function shares: JSON answers, typed errors mapped to statuses in one place, API-key checks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.event_handler import Response, content_types

from npsloop.apikeys import ApiKeyStore
from npsloop.errors import NpsloopError

API_KEY_HEADER = "x-api-key"


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body, headers=headers)


def install_error_handlers(app: Any) -> None:
    """Typed errors become their status with a JSON body; an unknown route is a JSON 404."""

    @app.exception_handler(NpsloopError)
    def npsloop_error(exc: NpsloopError) -> Response:
        return json_response(exc.status, exc.body())

    @app.not_found
    def not_found(_exc: Exception) -> Response:
        return json_response(404, {"error": "no such route"})


def api_key_required(store: Callable[[], ApiKeyStore]) -> Callable[..., Response]:
    """Powertools middleware: the request must carry a valid key in X-Api-Key, else a 401 that says so."""

    def middleware(app: Any, next_middleware: Callable[[Any], Response]) -> Response:
        key = (app.current_event.headers or {}).get(API_KEY_HEADER)
        if store().check(key) is None:
            message = "a valid API key is required in the X-Api-Key header" if key else "X-Api-Key header is missing"
            return json_response(401, {"error": message})
        return next_middleware(app)

    return middleware
