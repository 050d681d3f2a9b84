"""`npsloop report` equals /nps; `npsloop reaggregate` fills new segments from history and, racing live
compute_score, still counts every response exactly once."""

import json

from compute_score import handler as compute

from npsloop.analysis.themes import Taxonomy
from npsloop.reaggregate import reaggregate
from npsloop.stores.responses import Counting, ResponseScan, ResponseStore
from npsloop_local.cli import main as npsloop

from ..seed import BY_HAND
from .test_ingest import generic
from .test_reports_api import nps


def test_report_prints_the_same_numbers_as_the_api(seeded, context, stack, capsys):
    args = ["report", "--aws-url", stack.url, "--from", "2026-03-01", "--to", "2026-08-31"]
    assert npsloop([*args, "--format", "json"]) == 0
    printed = json.loads(capsys.readouterr().out)
    _, api = nps(context, seeded, **{"from": "2026-03-01", "to": "2026-08-31"})
    assert printed["periods"] == api["periods"]
    assert npsloop([*args, "--format", "csv"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("period,start,end,responses") and len(lines) == 1 + len(BY_HAND)
    assert npsloop(args) == 0
    table = capsys.readouterr().out
    assert "2026-05" in table and "25.0" in table and "yes" in table
    assert npsloop(["report", "--aws-url", stack.url, "--segment", "planet", "--value", "x"]) == 1


def write_as_old_configuration(stack, context, answers):
    """Store and count as a configuration that knew only the overall segment and no themes would have."""
    from datetime import UTC, datetime

    from npsloop.models import CanonicalResponse

    old = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"), Counting(("overall",)))
    for rid, (score, touchpoint, comment) in answers.items():
        response = CanonicalResponse(response_id=f"generic:{rid}", source="generic", score=score,
                                     touchpoint=touchpoint, comment=comment,
                                     responded_at=datetime(2026, 8, 14, 10, tzinfo=UTC))  # fmt: skip
        assert old.create(response, received_at=datetime(2026, 8, 14, 10, tzinfo=UTC)) is None
    assert compute.lambda_handler(stack.stream_event(), context) == {"batchItemFailures": []}


def test_reaggregate_fills_history_and_races_live_traffic_without_double_counting(stack, context, capsys):
    write_as_old_configuration(stack, context, {"h0": (10, "support", None), "h1": (9, "support", None),
                                       "h2": (3, "support", "teuer"), "h3": (8, "onboarding", None)})  # fmt: skip
    assert stack.aggregate("touchpoint#support", "month#2026-08") == {}
    assert stack.aggregate("overall#all", "month#2026-08")["responses"] == 4
    scan = ResponseScan(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))

    # While the rebuild runs, h2 is answered again (3 -> 10) and stored as the current configuration counts it.
    real_rewrite, raced = scan.rewrite, []

    def rewrite_after_a_live_update(response_id, revision, basis):
        if not raced:
            raced.append(1)
            at = {"responded_at": "2026-08-14T10:00:00Z", "updated_at": "2026-08-20T10:00:00Z"}
            generic(context, {"response_id": "h2", "score": 10, "touchpoint": "support", **at})
        return real_rewrite(response_id, revision, basis)

    scan.rewrite = rewrite_after_a_live_update
    counting = Counting(("overall", "source", "touchpoint", "campaign"), Taxonomy.configured().themes_of)
    progress = reaggregate(scan, counting)
    assert raced and progress.seen == 4 and not progress.gave_up
    while (event := stack.stream_event())["Records"]:  # compute_score counts the rewritten bases and the update
        assert compute.lambda_handler(event, context) == {"batchItemFailures": []}
    support = stack.aggregate("touchpoint#support", "month#2026-08")
    assert (support["responses"], support["promoters"], support.get("detractors", 0)) == (3, 3, 0)
    overall = stack.aggregate("overall#all", "month#2026-08")
    assert (overall["responses"], overall["promoters"], overall["passives"], overall["detractors"]) == (4, 3, 1, 0)
    assert overall.get("theme_detractors_price", 0) == 0
    assert stack.aggregate("source#generic", "month#2026-08")["responses"] == 4

    before = {sk: stack.aggregate("overall#all", sk) for sk in ("month#2026-08", "day#2026-08-14")}
    assert npsloop(["reaggregate", "--aws-url", stack.url, "--quiet"]) == 0  # again: nothing moves
    assert "0 recounted (compute_score moves their counts), 4 already current" in capsys.readouterr().out
    assert stack.stream_event()["Records"] == []
    assert {sk: stack.aggregate("overall#all", sk) for sk in before} == before
