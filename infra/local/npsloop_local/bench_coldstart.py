"""`npsloop bench coldstart`: each handler's cold start against `import boto3` plus one client, in the same run.

Method: moto (with the template's resources and the local secret) and the Salesforce stand-in run on 127.0.0.1;
nothing else does. For each function, a fresh interpreter with exactly its template environment runs
npsloop_local.coldstart_probe, which times the import of the handler module and then the setup its first invocation
does (wiring factory, secret, field mapping, Salesforce session, one AWS client per service its ports call, the
models of npsloop.models it validates). The baseline is a fresh interpreter timing `import boto3;
boto3.client("dynamodb")`. Interpreter start-up is outside both clocks. Rounds interleave the baseline and every
handler so machine load hits all alike; the first round warms the file cache and is dropped; figures are medians of
the remaining rounds.

Not counted: the invocation's own work (reads, writes, publishing) and modules a handler imports on one path
only (a source's adapter, the dashboard's renderer), which the first request on that path pays.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from npsloop_local.bench import producer
from npsloop_local.stack import LocalStack, StackOptions
from npsloop_local.template import ROOT

ROUNDS = 5
LIMIT = 1.5  # the most a handler's cold start may be, as a multiple of the baseline


def _probe(target: str, env: dict[str, str]) -> float:
    done = subprocess.run([sys.executable, "-m", "npsloop_local.coldstart_probe", target], env=env, cwd=ROOT,  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"cold start probe of {target} failed: {done.stderr[-2000:]}")
    timing = json.loads(done.stdout.strip().splitlines()[-1])
    return timing["import_ms"] + timing["setup_ms"]


def measure(rounds: int = ROUNDS) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="npsloop-coldstart-") as tmp, (Path(tmp) / "stack.log").open("w") as log:
        stack = LocalStack(StackOptions(port=0, salesforce_port=0, aws_port=0, run_functions=False, log=log))
        stack.start()
        try:
            envs = {fn.handler.split(".", 1)[0]: stack.function_environment(fn) for fn in stack.template.functions()}
            targets = {"baseline": next(iter(envs.values())), **envs}
            samples: dict[str, list[float]] = {t: [] for t in targets}
            for n in range(rounds + 1):
                for target, env in targets.items():
                    ms = _probe(target, env)
                    if n:
                        samples[target].append(ms)
        finally:
            stack.stop()
    base = statistics.median(samples.pop("baseline"))
    rows = [{"figure": "coldstart.baseline (import boto3 + 1 client)", "value": round(base), "unit": "ms"}]
    for name, ms in sorted(samples.items()):
        value = statistics.median(ms)
        rows.append({"figure": f"coldstart.{name}", "value": round(value), "unit": "ms", "baseline": round(base),
                     "ratio": round(value / base, 2)})  # fmt: skip
    return rows


@producer("coldstart")
def coldstart() -> list[dict[str, Any]]:
    return measure()
