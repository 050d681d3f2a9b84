"""npsloop: NPS responses from survey tools into Salesforce, scored and acted on (the Lambda layer).

Every handler's import goes through this package: from here on, the garbage collector is paused while a module of
the layer is imported (and whatever that module imports), and what the import made is frozen after it, out of
later collections (`_CollectorPausedImports`)."""

from __future__ import annotations

import gc
import sys
import threading
from typing import Any


class _CollectorPausedImports:
    """A meta path finder for npsloop's modules: it finds each with the finders after it and pauses the collector while
    the outermost one runs. An import allocates tens of thousands of objects that live as long as the container
    (classes, functions, pydantic's field info), which every collection during the import walks again; they are
    frozen after it, as npsloop.aws.client freezes a client's models. The collector is on again, as it was, when the
    import ends, whether it succeeded or failed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._depth = 0
        self._was_enabled = False

    def find_spec(self, name: str, path: Any, target: Any = None) -> Any:
        if not name.startswith(f"{__name__}."):
            return None
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None) if finder is not self else None
            spec = find(name, path, target) if find else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _PausedLoader(spec.loader, self)
                return spec
        return None

    def enter(self) -> None:
        with self._lock:
            if self._depth == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._depth += 1

    def leave(self) -> None:
        with self._lock:
            self._depth -= 1
            if self._depth == 0:
                if self._was_enabled:
                    gc.enable()
                gc.freeze()


class _PausedLoader:
    """The loader found for a module of npsloop, its module executed with the collector paused."""

    def __init__(self, loader: Any, imports: _CollectorPausedImports) -> None:
        self._loader, self._imports = loader, imports

    def __getattr__(self, name: str) -> Any:  # get_source, get_resource_reader, is_package ...: the loader's own
        return getattr(self._loader, name)

    def create_module(self, spec: Any) -> Any:
        return self._loader.create_module(spec)

    def exec_module(self, module: Any) -> None:
        self._imports.enter()
        try:
            self._loader.exec_module(module)
        finally:
            self._imports.leave()


if not any(isinstance(finder, _CollectorPausedImports) for finder in sys.meta_path):
    sys.meta_path.insert(0, _CollectorPausedImports())
