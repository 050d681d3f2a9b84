"""`npsloop report` equals /nps; `npsloop reaggregate` fills new segments from history and, racing live
compute_score, still counts every response exactly once."""

import json

from compute_score import handler as compute

from npsloop.analysis.themes import Taxonomy
from npsloop.compute import RESPONSES, Received, score_batch
from npsloop.models import ResponseEvent
from npsloop.reaggregate import reaggregate
from npsloop.stores.aggregates import AggregateStore
from npsloop.stores.bus import EventBus
from npsloop.stores.ledgers import LedgerScan
from npsloop.stores.responses import ResponseStore
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


def stores(stack):
    ddb = stack.client("dynamodb")
    responses, aggregates = stack.names.refs["ResponsesTable"], stack.names.refs["AggregatesTable"]
    return (
        LedgerScan(responses, RESPONSES.ledger, ddb),
        AggregateStore(responses, aggregates, ddb),
        ResponseStore(responses, ddb),
    )


def score_as_old_code(stack, messages):
    """Count as a version of npsloop that knew only the overall segment would have."""
    _, aggregates, responses = stores(stack)
    batch = [Received(m["messageId"], ResponseEvent.model_validate(json.loads(m["body"])["detail"])) for m in messages]
    assert score_batch(batch, responses, aggregates, EventBus("npsloop", stack.client("events")),
                       segments=("overall",)) == set()  # fmt: skip


def test_reaggregate_fills_history_and_races_live_traffic_without_double_counting(stack, context, capsys):
    for i, (score, tp) in enumerate([(10, "support"), (9, "support"), (3, "support"), (8, "onboarding")]):
        comment = "teuer" if score < 7 else None
        generic(context, {"response_id": f"h{i}", "score": score, "touchpoint": tp, "comment": comment,
                          "responded_at": "2026-08-14T10:00:00Z"})  # fmt: skip
    score_as_old_code(stack, stack.sqs_event("ScoreQueue")["Records"])
    assert stack.aggregate("touchpoint#support", "month#2026-08") == {}
    scan, aggregates, _ = stores(stack)

    # While the rebuild runs, h2 is answered again (3 -> 10) and counted live by compute_score.
    real_recount = aggregates.recount
    raced = []

    def recount_after_a_live_update(ledger, entries, moves):
        if not raced:
            raced.append(1)
            at = {"responded_at": "2026-08-14T10:00:00Z", "updated_at": "2026-08-20T10:00:00Z"}
            generic(context, {"response_id": "h2", "score": 10, "touchpoint": "support", **at})
            compute.lambda_handler(stack.sqs_event("ScoreQueue"), context)
        return real_recount(ledger, entries, moves)

    aggregates.recount = recount_after_a_live_update
    progress = reaggregate(scan, aggregates, ("overall", "source", "touchpoint", "campaign"), Taxonomy.configured())
    assert raced and progress.seen == 4 and not progress.gave_up
    support = stack.aggregate("touchpoint#support", "month#2026-08")
    assert (support["responses"], support["promoters"], support.get("detractors", 0)) == (3, 3, 0)
    overall = stack.aggregate("overall#all", "month#2026-08")
    assert (overall["responses"], overall["promoters"], overall["passives"], overall["detractors"]) == (4, 3, 1, 0)
    assert overall.get("theme_detractors_price", 0) == 0
    assert stack.aggregate("source#generic", "quarter#2026-Q3")["responses"] == 4

    before = {sk: stack.aggregate("overall#all", sk) for sk in ("month#2026-08", "day#2026-08-14")}
    assert npsloop(["reaggregate", "--aws-url", stack.url, "--quiet"]) == 0  # again: nothing moves
    assert "0 recounted, 4 already current" in capsys.readouterr().out
    assert {sk: stack.aggregate("overall#all", sk) for sk in before} == before
