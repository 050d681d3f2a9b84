"""`npsloop bench [NAME ...]`: a registry of figure producers, printed in one place as a table or JSON lines.

A producer is a function that measures and returns figures: dicts with "figure", "value" and "unit", plus
"baseline" and "ratio" where the figure is compared with something measured in the same run. Register one with
`@producer("name", "what it measures")`; `npsloop bench` runs every producer, `npsloop bench NAME` only those named.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

Figure = dict[str, Any]


@dataclass(frozen=True)
class Producer:
    name: str
    help: str
    measure: Callable[[], list[Figure]]


# name -> (module that registers it, what it measures): modules load only when run, so `npsloop --help` stays fast
PRODUCERS = {
    "coldstart": ("npsloop_local.bench_coldstart",
                  "each handler's import plus first-use setup, against `import boto3` and one client"),
    "salesforce": ("npsloop_local.bench_salesforce", "Salesforce API calls per 1,000 responses against a naive sync"),
    "pipeline": ("npsloop_local.bench_pipeline",
                 "2,000 responses end to end: throughput, POST-to-record p50/p95, AWS usage and cost per million"),
}  # fmt: skip
_REGISTRY: dict[str, Producer] = {}


def producer(name: str) -> Callable[[Callable[[], list[Figure]]], Callable[[], list[Figure]]]:
    def register(measure: Callable[[], list[Figure]]) -> Callable[[], list[Figure]]:
        _REGISTRY[name] = Producer(name, PRODUCERS[name][1], measure)
        return measure

    return register


def producers(names: list[str] | None = None) -> list[Producer]:
    chosen = names or list(PRODUCERS)
    for name in chosen:
        import_module(PRODUCERS[name][0])
    return [_REGISTRY[name] for name in chosen]


def _cell(value: Any, spec: str) -> str:
    return "" if value is None else format(value, spec) if isinstance(value, int | float) else str(value)


def table(rows: list[Figure]) -> str:
    width = max([len("figure"), *(len(r["figure"]) for r in rows)])
    lines = [f"{'figure':<{width}} {'value':>10} {'unit':<6} {'baseline':>10} {'ratio':>7}"]
    for r in rows:
        lines.append(f"{r['figure']:<{width}} {_cell(r['value'], '>10g'):>10} {r['unit']:<6} "
                     f"{_cell(r.get('baseline'), '>10g'):>10} {_cell(r.get('ratio'), '>7.2f'):>7}")  # fmt: skip
    return "\n".join(lines)


def run(names: list[str] | None = None, as_json: bool = False) -> list[Figure]:
    """Run the producers (all when none is named) and print their figures as they come."""
    everything: list[Figure] = []
    for p in producers(names):
        rows = p.measure()
        everything += rows
        print("\n".join(json.dumps(r) for r in rows) if as_json else f"\n{p.name}: {p.help}\n{table(rows)}", flush=True)
    return everything
