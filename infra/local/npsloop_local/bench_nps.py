"""`make bench`: GET /nps for 12 months with 1,000 and with 100,000 stored responses; prints both and their ratio.

The reports function runs in-process against the local stack's moto server (its own process) holding the
template's tables. Responses are stored in
the Responses table (as compute_score leaves them) and counted into Aggregates with the same aggregation code, summed
per item, so that 100,000 responses load in seconds rather than through 100,000 transactions.
"""

from __future__ import annotations

import json
import os
import random
import socket
import statistics
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

SIZES = (1_000, 100_000)
CALLS = 30


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _load(ddb, names, count: int, seed: int) -> None:
    from npsloop.aggregation import contribution, deltas, keys_for, segment_values
    from npsloop.models import CanonicalResponse, iso

    rng = random.Random(seed)  # noqa: S311 (test data, not secrets)
    start = datetime(2025, 9, 1, tzinfo=UTC)
    totals: dict = defaultdict(Counter)
    batch = []
    for i in range(count):
        at = start + timedelta(seconds=rng.randrange(365 * 86400))
        r = CanonicalResponse(response_id=f"generic:b{seed}-{i}", source="generic", score=rng.choice(range(11)),
                              touchpoint=rng.choice(["support", "onboarding", "renewal"]), responded_at=at)  # fmt: skip
        c = contribution(r.score, keys_for(segment_values(r), at))
        for key, counter in deltas(None, c).items():
            totals[key].update(counter)
        batch.append({"PutRequest": {"Item": {
            "response_id": {"S": r.response_id}, "data": {"S": r.model_dump_json()}, "revision": {"N": "1"},
            "received_at": {"S": iso(at)}, "counted": {"S": json.dumps(c)}, "counted_revision": {"N": "1"},
            "category": {"S": r.category.value}, "period_month": {"S": f"{at:%Y-%m}"},
            "period_at": {"S": iso(at)}}}})  # fmt: skip
        if len(batch) == 25:
            ddb.batch_write_item(RequestItems={names.refs["ResponsesTable"]: batch})
            batch = []
    if batch:
        ddb.batch_write_item(RequestItems={names.refs["ResponsesTable"]: batch})
    for key, counter in totals.items():
        attrs = sorted(counter)
        ddb.update_item(TableName=names.refs["AggregatesTable"], Key={"pk": {"S": key.pk}, "sk": {"S": key.sk}},
                        UpdateExpression="ADD " + ", ".join(f"#a{i} :v{i}" for i in range(len(attrs))),
                        ExpressionAttributeNames={f"#a{i}": a for i, a in enumerate(attrs)},
                        ExpressionAttributeValues={f":v{i}": {"N": str(counter[a])}
                                                   for i, a in enumerate(attrs)})  # fmt: skip


def _time_nps(key: str) -> float:
    from reports_api import handler

    from npsloop_local.http_api import http_event
    from npsloop_local.template import Route

    class Context:
        function_name, memory_limit_in_mb, aws_request_id = "bench", 512, "bench"
        invoked_function_arn = "arn:aws:lambda:eu-central-1:123456789012:function:bench"

    target = "/nps?period=month&from=2025-09-01&to=2026-08-31"
    event = http_event("GET", target, [("x-api-key", key)], b"", Route("GET", "/nps"), {}, "127.0.0.1")
    answer = handler.lambda_handler(event, Context())  # warm: clients, caches, imports
    assert answer["statusCode"] == 200, answer
    timings = []
    for _ in range(CALLS):
        began = time.perf_counter()
        handler.lambda_handler(event, Context())
        timings.append(time.perf_counter() - began)
    return statistics.median(timings)


def main() -> int:
    import requests

    from npsloop import aws, config, wiring
    from npsloop.apikeys import ApiKeyStore, new_key
    from npsloop_local.moto_server import MotoServer
    from npsloop_local.resources import aws_client, create_all
    from npsloop_local.stack import local_secret
    from npsloop_local.template import Template

    os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_REGION="eu-central-1",  # noqa: S106 (moto)
                      AWS_DEFAULT_REGION="eu-central-1", POWERTOOLS_LOG_LEVEL="WARNING")  # fmt: skip
    port = _free_port()
    server = MotoServer("127.0.0.1", port)
    server.start()
    url = f"http://127.0.0.1:{port}"
    os.environ["AWS_ENDPOINT_URL"] = url
    results = {}
    try:
        for size in SIZES:
            requests.post(f"{url}/moto-api/reset", timeout=30)
            template = Template()
            names = create_all(template, url, local_secret(None)[0])
            fn = next(f for f in template.functions() if f.logical_id == "ReportsApiFunction")
            os.environ.update({k: str(names.resolve(v)) for k, v in fn.environment.items()})
            for cached in (aws.client, config.settings, wiring.reports, wiring.dashboard):
                cached.cache_clear()
            ddb = aws_client("dynamodb", url)
            began = time.perf_counter()
            _load(ddb, names, size, size)
            loaded = time.perf_counter() - began
            key = new_key()
            ApiKeyStore(names.refs["ApiKeysTable"], ddb).add(key, "bench")
            results[size] = _time_nps(key)
            print(f"{size:>7} stored responses: GET /nps, 12 months: median {results[size] * 1000:.2f} ms over "
                  f"{CALLS} calls (loaded in {loaded:.0f} s)", flush=True)  # fmt: skip
    finally:
        server.stop()
    small, large = results[SIZES[0]], results[SIZES[-1]]
    print(f"ratio {SIZES[-1]:,} / {SIZES[0]:,}: {large / small:.2f}")
    return 0


if __name__ == "__main__":
    sys.path[:0] = [p for p in ("functions", "shared") if p not in sys.path]
    sys.exit(main())
