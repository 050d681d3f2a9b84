"""What every HTTP function shares: Powertools' HTTP API resolver (imported without the package's other resolvers),
JSON answers, typed errors mapped to statuses in one place, API-key checks."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

EVENT_HANDLER = "aws_lambda_powertools.event_handler"


def _event_handler_package() -> ModuleType:
    """Powertools' event_handler package, registered without running its __init__, which imports every resolver the
    package has (AppSync's with asyncio, AppSync Events', Bedrock's, VPC Lattice's...: about 20 ms of a cold start)
    where an HTTP function needs `api_gateway` alone. Its submodules import as usual; the first name only the
    __init__ defines (`from aws_lambda_powertools.event_handler import AppSyncResolver`) runs the __init__ then, so
    every import of the package still works, and gives what it gave."""
    if EVENT_HANDLER in sys.modules:
        return sys.modules[EVENT_HANDLER]
    spec = importlib.util.find_spec(EVENT_HANDLER)
    if spec is None or spec.loader is None:
        raise ImportError(f"No module named {EVENT_HANDLER!r}", name=EVENT_HANDLER)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)

    def complete(name: str) -> Any:
        if importlib.util.find_spec(f"{EVENT_HANDLER}.{name}") is not None:  # a submodule, as `from package import`
            return importlib.import_module(f"{EVENT_HANDLER}.{name}")  # would import it
        del package.__getattr__  # the __init__ runs once, and defines what the package exports
        loader.exec_module(package)
        return getattr(package, name)

    package.__getattr__ = complete  # type: ignore[attr-defined]
    sys.modules[EVENT_HANDLER] = package
    sys.modules["aws_lambda_powertools"].event_handler = package  # type: ignore[attr-defined]
    return package


_event_handler_package()

from aws_lambda_powertools.event_handler import content_types  # noqa: E402 (after the package is registered)
from aws_lambda_powertools.event_handler.api_gateway import APIGatewayHttpResolver, Response  # noqa: E402

from npsloop.apikeys import ApiKeyStore  # noqa: E402
from npsloop.errors import NpsloopError  # noqa: E402

__all__ = ["APIGatewayHttpResolver", "Response", "api_key_required", "content_types", "install_error_handlers",
           "json_response"]

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
