"""`npsloop replay` and `npsloop import` against the stack on moto: through the same pipeline as live traffic,
idempotent, and history is marked historical (counted, no alert)."""

import base64
import csv
import json
import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from compute_score import handler as compute

from npsloop.errors import UnprocessableError
from npsloop_local.history import Ports, import_csv, replay, row_to_response
from npsloop_local.ops import Target

from .test_sources_ingest import post

DELIGHTED_HEADER = ["Response ID", "Person ID", "Email", "Name", "Score", "Comment", "Response Timestamp",
                    "Last Updated Timestamp", "Tags", "Notes", "Plan", "Touchpoint"]  # fmt: skip


def delighted_csv(path, rows, seed=7):
    """A Delighted-style export: one row per response, person properties as extra columns."""
    rng = random.Random(seed)
    with path.open("w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(DELIGHTED_HEADER)
        scores = []
        for n in range(rows):
            score = rng.randint(0, 10)
            scores.append(score)
            when = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n)
            out.writerow([f"d{n}", f"p{n}", f"user{n}@example.com", f"User {n}", score,
                          "Too slow" if score < 7 else "", when.strftime("%Y-%m-%d %H:%M:%S +0000"), "",
                          "beta" if n % 3 else "", "called them", "pro" if n % 2 else "free",
                          "onboarding" if n % 4 == 0 else ""])  # fmt: skip
    return scores


def target(stack):
    return Target(aws_url=stack.url)


def drain_scoring(stack, context):
    while True:
        event = stack.stream_event()
        if not event["Records"]:
            return
        assert compute.lambda_handler(event, context) == {"batchItemFailures": []}


def test_delighted_rows_map_and_bad_rows_name_the_column():
    row = dict(zip(DELIGHTED_HEADER, ["d1", "p1", "ada@example.com", "Ada", "6", "Slow", "2025-03-01 10:00:00 -0800",
                                      "", "beta", "private note", "pro", "support"], strict=True))  # fmt: skip
    r = row_to_response(row, "delighted")
    assert (r.response_id, r.source, r.score, r.email, r.comment, r.touchpoint) == (
        "delighted:d1", "delighted", 6, "ada@example.com", "Slow", "support")  # fmt: skip
    assert r.responded_at == datetime(2025, 3, 1, 18, tzinfo=UTC)
    assert r.attributes == {"person id": "p1", "tags": "beta", "plan": "pro"}  # notes are not carried over
    for column, value in (("Score", "11"), ("Score", "7.5"), ("Score", ""), ("Response Timestamp", "last week")):
        with pytest.raises(UnprocessableError):
            row_to_response({**row, column: value}, "delighted")
    generic = row_to_response({"response_id": "g1", "score": "10", "account_id": "001AAA", "region": "EU"}, "generic")
    assert (generic.response_id, generic.account_id, generic.attributes) == ("generic:g1", "001AAA", {"region": "EU"})


def test_import_on_moto_counts_each_row_once_without_alerts(stack, context, tmp_path, capsys):
    """The same as the 10,000-row test (tests/unit/test_import_volume.py) against the real stores, at a size moto
    serves in seconds."""
    path = tmp_path / "delighted-export.csv"
    scores = delighted_csv(path, 300)
    report = import_csv(target(stack), path, "delighted", progress=True)
    assert report.counts == Counter({"recorded": 300}) and report.problems == []
    assert "importing delighted-export.csv" in capsys.readouterr().err  # the progress bar
    table = stack.names.refs["ResponsesTable"]
    count = sum(p["Count"] for p in stack.client("dynamodb").get_paginator("scan").paginate(
        TableName=table, Select="COUNT"))  # fmt: skip
    assert count == 300
    drain_scoring(stack, context)
    by_month = Counter()
    for n, score in enumerate(scores):
        month = f"{datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n):%Y-%m}"
        kind = "promoters" if score >= 9 else "passives" if score >= 7 else "detractors"
        by_month[(month, kind)] += 1
        by_month[(month, "responses")] += 1
    for month in {m for m, _ in by_month}:
        counted = stack.aggregate("source#delighted", f"month#{month}")
        assert {k: counted.get(k, 0) for k in ("responses", "promoters", "passives", "detractors")} == {
            k: by_month[(month, k)] for k in ("responses", "promoters", "passives", "detractors")}  # fmt: skip
    scored = stack.queued_events("NotifyQueue", max_messages=50)
    assert scored and all(e["detail"]["historical"] for e in scored)
    again = import_csv(target(stack), path, "delighted", progress=False)  # idempotent
    assert again.counts == Counter({"duplicate": 300})


def test_replay_after_a_mapping_fix_records_the_rejected_and_marks_old_ones_historical(stack, context):
    body = json.dumps({"event": "responseFinished", "data": {"id": "fb7", "data": {"a": 9, "b": 2}}}).encode()
    assert post(context, "formbricks", body)[0] == 422
    assert post(context, "generic", json.dumps({"response_id": "ok", "score": 9}).encode())[0] == 202
    stack.recorded()  # consumed: only what replay records is looked at below
    ports = Ports.of(target(stack))
    report = replay(target(stack), source="formbricks", rejected_only=True, progress=False, ports=ports)
    assert report.counts == Counter({"rejected": 1})  # the mapping is not fixed yet
    stack.set_mapping({"formbricks": {"score": {"id": "b"}}})
    later = datetime.now(UTC) + timedelta(days=8)
    report = replay(target(stack), source="formbricks", rejected_only=True, progress=False, now=later)
    assert report.counts == Counter({"recorded": 1})
    (detail,) = stack.recorded()
    assert (detail["response"]["response_id"], detail["response"]["score"], detail["historical"]) == (
        "formbricks:fb7", 2, True)  # fmt: skip
    assert replay(target(stack), source="formbricks", rejected_only=True, progress=False).counts == Counter()
    report = replay(target(stack), since=datetime.now(UTC) - timedelta(hours=1), progress=False)
    assert report.counts == Counter({"duplicate": 2})  # a time range, all sources: idempotent like live traffic


def test_replay_finds_deliveries_archived_and_tagged_rejected_before_firehose(stack, context):
    """Objects of one delivery each, tagged `status=rejected`, as ingest wrote them before the archive went through
    Firehose: replay reads them too, takes the tag for a mark, and marks them replayed by their key."""
    s3, bucket = stack.client("s3"), stack.names.refs["ArchiveBucket"]
    body = json.dumps({"response_id": "old1", "score": 8}).encode()
    record = {"source": "generic", "received_at": "2026-10-01T09:00:00+00:00", "query": {},
              "headers": {"content-type": "application/json"},
              "body_base64": base64.b64encode(body).decode()}  # fmt: skip
    for key, status in (("raw/generic/2026/10/01/090000000000-a.json", "rejected"),
                        ("raw/generic/2026/10/01/090001000000-b.json", "replayed")):  # fmt: skip
        s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(record).encode())
        s3.put_object_tagging(Bucket=bucket, Key=key, Tagging={"TagSet": [{"Key": "status", "Value": status}]})
    report = replay(target(stack), rejected_only=True, progress=False)
    assert report.counts == Counter({"recorded": 1})
    assert stack.archived().status("raw/generic/2026/10/01/090000000000-a.json") == "replayed"
    assert replay(target(stack), rejected_only=True, progress=False).counts == Counter()

