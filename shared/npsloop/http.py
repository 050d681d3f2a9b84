"""What every HTTP function shares: Powertools' HTTP API resolver (imported without the package's other resolvers),
JSON answers, typed errors mapped to statuses in one place, API-key checks."""

from __future__ import annotations

import ast
import importlib
import importlib.util
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

EVENT_HANDLER = "aws_lambda_powertools.event_handler"
DATA_CLASSES = "aws_lambda_powertools.utilities.data_classes"


def _without_init(name: str) -> ModuleType:
    """Powertools' package `name`, registered without running its __init__, which imports much an HTTP function does
    not need: event_handler's imports every resolver the package has (AppSync's with asyncio, AppSync Events',
    Bedrock's, VPC Lattice's...: about 20 ms of a cold start) where an HTTP function needs `api_gateway` alone;
    data_classes' imports the data class of every event source (CodePipeline's with zipfile, tempfile, bz2, lzma:
    about 10 ms) where api_gateway needs five of them.

    Its submodules import as usual, and so does a name the __init__ imports from one of them (`from .alb_event import
    ALBEvent`: that submodule alone); any other name (`__all__`, or one that is also a submodule's) runs the __init__
    then, so every import of the package still works, and gives what it gave."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.find_spec(name)
    if spec is None or spec.loader is None or spec.origin is None:
        raise ImportError(f"No module named {name!r}", name=name)
    loader = spec.loader
    package = importlib.util.module_from_spec(spec)
    reexported, shadowed = _reexports(name, spec.origin)

    def complete(attr: str) -> Any:
        if attr in reexported:
            module, original = reexported[attr]
            value = getattr(importlib.import_module(module), original)
            setattr(package, attr, value)
            return value
        if attr not in shadowed and importlib.util.find_spec(f"{name}.{attr}") is not None:
            return importlib.import_module(f"{name}.{attr}")  # a submodule, as `from package import` would import it
        del package.__getattr__  # the __init__ runs once, and defines what the package exports
        loader.exec_module(package)
        return getattr(package, attr)

    package.__getattr__ = complete  # type: ignore[attr-defined]
    sys.modules[name] = package
    parent, _, child = name.rpartition(".")
    setattr(importlib.import_module(parent), child, package)
    return package


def _reexports(package: str, init: str) -> tuple[dict[str, tuple[str, str]], set[str]]:
    """What the package's __init__ imports from its own submodules: each name's (submodule, name there), and the names
    that are also a submodule's (data_classes' `event_source`, a function in `.event_source`): the __init__ gives
    those."""
    names: dict[str, tuple[str, str]] = {}
    for node in ast.parse(Path(init).read_bytes()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level in (0, 1):
            module = f"{package}.{node.module}" if node.level else node.module
            if module.rpartition(".")[0] == package:
                names |= {alias.asname or alias.name: (module, alias.name) for alias in node.names}
    shadowed = {name for name in names if f"{package}.{name}" in {module for module, _ in names.values()}}
    return {n: origin for n, origin in names.items() if n not in shadowed and n != "*"}, shadowed


_without_init(EVENT_HANDLER)
_without_init(DATA_CLASSES)

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
