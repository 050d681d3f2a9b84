"""Independent network calls made side by side: a batch's per-item calls wait on the network, not on the CPU."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")
WORKERS = 8  # below botocore's 10 pooled connections per client: every call keeps a connection


def side_by_side(call: Callable[[T], R], items: Iterable[T], workers: int = WORKERS) -> list[R]:
    """`[call(item) for item in items]`, up to `workers` at a time, in the items' order; the first exception is
    raised once every call has ended (none is left running behind the caller)."""
    items = list(items)
    if len(items) < 2 or workers < 2:
        return [call(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor  # only batches pay for the import

    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        futures = [pool.submit(call, item) for item in items]
    return [future.result() for future in futures]
