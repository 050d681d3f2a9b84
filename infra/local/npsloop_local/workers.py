"""Worker processes per function: each with exactly its template environment, restarted when one dies."""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

from npsloop_local.template import ROOT
from npsloop_local.worker import receive, send

START_TIMEOUT_S = 60


class InvocationError(Exception):
    """The function raised, timed out or its process died: Lambda would report a function error."""


@dataclass
class WorkerSpec:
    name: str
    handler: str
    timeout: int
    environment: dict[str, str]
    memory_mb: int = 128


class Worker:
    def __init__(self, spec: WorkerSpec, log: Any):
        self.spec, self.log = spec, log
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        parent_read, child_write = os.pipe()
        child_read, parent_write = os.pipe()
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and module)
            [sys.executable, "-m", "npsloop_local.worker", self.spec.handler, str(child_read), str(child_write)],
            env=self.spec.environment, cwd=ROOT, pass_fds=(child_read, child_write),
            stdout=self.log, stderr=self.log, start_new_session=True,  # Ctrl-C reaches the stack, which stops us
        )  # fmt: skip
        os.close(child_read)
        os.close(child_write)
        self.requests, self.replies = os.fdopen(parent_write, "wb"), os.fdopen(parent_read, "rb")

    def wait_ready(self) -> None:
        reply = self._reply(START_TIMEOUT_S)
        if not reply or not reply.get("ready"):
            raise InvocationError(f"{self.spec.name} did not start (see its log)")

    def _reply(self, timeout: float) -> Any:
        result: list[Any] = []
        reader = threading.Thread(target=lambda: result.append(receive(self.replies)), daemon=True)
        reader.start()
        reader.join(timeout)
        if reader.is_alive():
            self.kill()
            reader.join(5)
            raise InvocationError(f"{self.spec.name} timed out after {timeout:.0f} s")
        return result[0] if result else None

    def invoke(self, event: dict[str, Any]) -> Any:
        try:
            send(self.requests, {"event": event})
        except (BrokenPipeError, ValueError, OSError):
            reply = None
        else:
            reply = self._reply(self.spec.timeout + 1)
        if reply is None:
            raise InvocationError(f"{self.spec.name}'s process died")
        if "errorType" in reply:
            raise InvocationError(f"{reply['errorType']}: {reply['errorMessage']}")
        return reply["result"]

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        for stream in (getattr(self, "requests", None), getattr(self, "replies", None)):
            try:
                if stream:
                    stream.close()
            except OSError:
                pass
        if self.process and self.process.poll() is None:
            try:
                self.process.wait(3)  # the worker leaves when its request pipe closes
            except subprocess.TimeoutExpired:
                self.kill()


@dataclass
class Usage:
    """What Lambda would bill one function for: invocations and their duration (wall time, as Lambda bills it)."""

    invocations: int = 0
    seconds: float = 0.0


class WorkerPool:
    """Up to `size` concurrent invocations of one function; a dead worker is replaced before its next use."""

    def __init__(self, spec: WorkerSpec, size: int, log: Any):
        self.spec = spec
        self.workers = [Worker(spec, log) for _ in range(size)]
        self.idle: queue.Queue[Worker] = queue.Queue()
        self.usage = Usage()
        self._lock = threading.Lock()
        self._busy: dict[int, float] = {}  # pid of a worker inside an invocation -> when it began (monotonic)

    def start(self) -> None:
        for worker in self.workers:
            worker.start()
        for worker in self.workers:
            worker.wait_ready()
            self.idle.put(worker)

    def invoke(self, event: dict[str, Any]) -> Any:
        worker = self.idle.get()
        try:
            if not worker.alive():
                worker.stop()
                worker.start()
                worker.wait_ready()
            pid = worker.process.pid if worker.process else 0
            started = time.monotonic()
            with self._lock:
                self._busy[pid] = started
            try:
                return worker.invoke(event)
            finally:
                with self._lock:
                    self._busy.pop(pid, None)
                    self.usage.invocations += 1
                    self.usage.seconds += time.monotonic() - started
        finally:
            self.idle.put(worker)

    def reset_usage(self) -> None:
        with self._lock:
            self.usage = Usage()

    def busy(self) -> dict[int, float]:
        """{pid: seconds since its invocation began} of the workers inside an invocation now (chaos kills one)."""
        now = time.monotonic()
        with self._lock:
            return {pid: now - began for pid, began in self._busy.items()}

    def pids(self) -> list[int]:
        return [w.process.pid for w in self.workers if w.process]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
