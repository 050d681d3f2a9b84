"""`npsloop bench pipeline`: 2,000 responses end to end through the local stack, and what AWS would bill for them.

Figures: responses per second from the first POST to the last NPS_Response__c in the stand-in; p50 and p95 of
each response's time from its POST to its record (the stand-in's CreatedDate); then the AWS usage per response,
counted from what the run did (the moto process meters requests, DynamoDB capacity units from item sizes,
EventBridge events, queue deliveries and Firehose's billed record bytes; the local stack times every function
invocation; the stack log's growth stands for CloudWatch Logs, plus Lambda's own START, END and REPORT lines for each
invocation of a function whose LoggingConfig lets them through), and the cost per million responses at the list
prices in PRICES.

Counted as AWS would bill, with these caveats: Lambda duration is the local wall time of each invocation (moto
is slower than AWS, so it leans high); the local pollers' receives stand for Lambda's SQS pollers, and their
stream reads for Lambda's, which AWS does not bill (counted, priced at $0); SES, Comprehend and storage are listed
apart (they depend on configuration), data transfer is left out. The raw archive's S3 PUTs are Firehose's, one per
buffer (at most one per stream every 5 minutes, about USD 0.09 a month for both streams whatever the volume): moto
writes one object per record from inside, so they are not counted.
"""

from __future__ import annotations

import json
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests

from npsloop_local.bench import Figure, producer
from npsloop_local.bench_salesforce import post_all, responses, seeded_stack, wait_synced
from npsloop_local.meter import PATH as METER_PATH

RESPONSES = 2_000
# us-east-1 list prices, read on 2026-11-22 from the handbook (reference/zapier-and-market.md §4.1, which cites
# the AWS pricing pages) except where noted. Lambda is priced for arm64, the template's default Architecture.
PRICES_READ_ON = "2026-11-22"
PRICES = {
    "apigateway.requests": (1.00 / 1e6, "HTTP API request"),
    "lambda.requests": (0.20 / 1e6, "Lambda invocation"),
    "lambda.gb_seconds": (0.0000133334, "Lambda GB-second, arm64"),
    "events.events": (1.00 / 1e6, "EventBridge custom event (64 KB chunk)"),
    "sqs.requests": (0.40 / 1e6, "SQS standard request (64 KB chunk)"),
    "dynamodb.WRU": (0.625 / 1e6, "DynamoDB on-demand write request unit"),
    "dynamodb.RRU": (0.125 / 1e6, "DynamoDB on-demand read request unit"),
    "dynamodbstreams.requests": (0.0, "DynamoDB Streams read by a Lambda trigger (free: AWS DynamoDB guide, Evaluate "
                                       "your DynamoDB streams usage)"),
    "s3.PUT": (0.005 / 1000, "S3 PUT, COPY, POST or LIST request"),
    "s3.GET": (0.0004 / 1000, "S3 GET request"),
    "firehose.billed_bytes": (0.029 / 2**30, "Firehose Direct PUT ingestion, first 500 TB/month, per byte billed in "
                              "5 KB record increments (AWS Firehose pricing page; not re-verified here)"),
    "secretsmanager.requests": (0.05 / 10_000, "Secrets Manager API call (AWS pricing page, via hivebook.wiki)"),
    "kms.requests": (0.03 / 10_000, "KMS request (AWS pricing page; not re-verified here)"),
    "logs.bytes": (0.50 / 2**30, "CloudWatch Logs ingestion per byte (AWS pricing page; not re-verified here)"),
    "ses.emails": (0.10 / 1000, "SES email (listed apart: depends on follow-ups and surveys)"),
}  # fmt: skip
APART = {"ses.emails"}  # depends on configuration: shown, not added to the total
# Lambda's system log lines per invocation (TEXT format, as in the AWS Lambda guide's Python logging example): what a
# function logs besides its own lines unless its LoggingConfig sets SystemLogLevel WARN
PLATFORM_LINES = ("START RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95 Version: $LATEST\n",
                  "END RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\n",
                  "REPORT RequestId: 8f507cfc-xmpl-4697-b07a-ac58fc914c95\tDuration: 15.74 ms\tBilled Duration: 16 ms\t"
                  "Memory Size: 256 MB\tMax Memory Used: 56 MB\t\n")  # fmt: skip
PLATFORM_LOG_BYTES = sum(len(line) for line in PLATFORM_LINES)
NAIVE_PER_MILLION = 13.9  # the handbook's naive x86 sketch of this pipeline (reference §4.2)


def _when(salesforce_datetime: str) -> float:
    return datetime.strptime(salesforce_datetime, "%Y-%m-%dT%H:%M:%S.%f%z").timestamp()


def usage(meter: dict[str, float], functions: dict[str, tuple[int, float, int]], posts: int, log_bytes: int
          ) -> dict[str, float]:  # fmt: skip
    """Billable quantities of the whole run, by PRICES key, from the meter, the invocations and the log."""
    requests_of = {name.removeprefix("request."): n for name, n in meter.items() if name.startswith("request.")}
    sqs = sum(n for name, n in requests_of.items() if name.startswith("sqs.")) + meter.get(
        "sqs.SendMessage (from EventBridge)", 0)  # fmt: skip
    return {
        "apigateway.requests": posts,
        "lambda.requests": sum(calls for calls, _, _ in functions.values()),
        "lambda.gb_seconds": sum(seconds * memory / 1024 for _, seconds, memory in functions.values()),
        "events.events": meter.get("events.events", 0),
        "sqs.requests": sqs,
        "dynamodb.WRU": meter.get("dynamodb.WRU", 0),
        "dynamodb.RRU": meter.get("dynamodb.RRU", 0),
        "dynamodbstreams.requests": sum(n for name, n in requests_of.items() if name.startswith("dynamodbstreams.")),
        "s3.PUT": requests_of.get("s3.PUT", 0),
        "s3.GET": requests_of.get("s3.GET", 0),
        "firehose.billed_bytes": meter.get("firehose.billed_bytes", 0),
        "secretsmanager.requests": sum(n for name, n in requests_of.items() if name.startswith("secretsmanager.")),
        "kms.requests": sum(n for name, n in requests_of.items() if name.startswith("kms.")),
        "logs.bytes": log_bytes,
        "ses.emails": requests_of.get("ses.SendEmail", 0),
    }


def cost_figures(used: dict[str, float], responses_count: int) -> list[Figure]:
    """Per-response usage and cost per million responses, line by line, and the total without the lines apart."""
    rows: list[Figure] = []
    total = 0.0
    for key, (price, what) in PRICES.items():
        per_response = used.get(key, 0) / responses_count
        per_million = per_response * 1e6 * price
        if key not in APART:
            total += per_million
        rows.append({"figure": f"aws.{key}_per_response", "value": round(per_response, 3), "unit": key.split(".")[1]})
        rows.append({"figure": f"cost_per_million.{key}", "value": round(per_million, 3), "unit": "USD",
                     "price": price, "priced": what, "apart": key in APART})  # fmt: skip
    rows.append({"figure": "cost_per_million_responses", "value": round(total, 2), "unit": "USD",
                 "baseline": NAIVE_PER_MILLION, "ratio": round(total / NAIVE_PER_MILLION, 2),
                 "prices_read_on": PRICES_READ_ON})  # fmt: skip
    return rows


def table_figures(meter: dict[str, float], tables: dict[str, str], responses_count: int) -> list[Figure]:
    """Capacity units per response by table (logical id), to show where the DynamoDB line comes from."""
    rows = []
    for physical, logical in sorted(tables.items(), key=lambda t: t[1]):
        for unit in ("WRU", "RRU"):
            if (n := meter.get(f"dynamodb.{unit}.{physical}", 0)) > 0:
                rows.append({"figure": f"aws.dynamodb.{unit}.{logical}_per_response",
                             "value": round(n / responses_count, 3), "unit": unit})  # fmt: skip
    return rows


def latency_figures(posted: dict[str, float], records: list[dict[str, Any]]) -> list[Figure]:
    created = {r["Response_Id__c"]: _when(r["CreatedDate"]) for r in records}
    delays = sorted(created[f"generic:{rid}"] - at for rid, at in posted.items())
    span = max(created.values()) - min(posted.values())
    p95 = delays[int(0.95 * (len(delays) - 1))]
    return [
        {"figure": "pipeline_responses_per_second", "value": round(len(posted) / span, 1), "unit": "1/s"},
        {"figure": "pipeline_post_to_record_p50", "value": round(statistics.median(delays), 2), "unit": "s"},
        {"figure": "pipeline_post_to_record_p95", "value": round(p95, 2), "unit": "s"},
    ]  # fmt: skip


@producer("pipeline")
def measure(count: int = RESPONSES) -> list[Figure]:
    with seeded_stack() as (stack, org, log):
        answers = responses(count=count, answered_on=datetime.now(UTC).date().isoformat())  # live traffic
        requests.delete(stack.aws_url + METER_PATH, timeout=30)
        for pool in stack.pools.values():
            pool.reset_usage()
        log.flush()
        log_start = Path(log.name).stat().st_size
        posted = post_all(stack, answers)
        wait_synced(stack, org, answers, time.monotonic() + 900)
        records = requests.get(f"{stack.standin.url}/__standin/records/NPS_Response__c", timeout=60).json()
        meter = requests.get(stack.aws_url + METER_PATH, timeout=30).json()
        functions = {name: (pool.usage.invocations, pool.usage.seconds, pool.spec.memory_mb)
                     for name, pool in stack.pools.items()}  # fmt: skip
        log.flush()
        platform = {fn.logical_id for fn in stack.template.functions() if fn.platform_logs}
        log_bytes = Path(log.name).stat().st_size - log_start + PLATFORM_LOG_BYTES * sum(
            calls for name, (calls, _, _) in functions.items() if name in platform)  # fmt: skip
    tables = {physical: logical for logical, physical in stack.names.refs.items() if logical.endswith("Table")}
    return (latency_figures(posted, records) + cost_figures(usage(meter, functions, len(answers), log_bytes), count)
            + table_figures(meter, tables, count))  # fmt: skip


if __name__ == "__main__":
    print("\n".join(json.dumps(r) for r in measure()))
