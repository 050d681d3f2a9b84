"""`npsloop report` and `npsloop reaggregate`: the NPS table in the terminal, and rebuilding the Aggregates table."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from npsloop_local.ops import Target, TargetError, add_target_arguments

if TYPE_CHECKING:
    from npsloop.stores.responses import Counting


def function_environment(target: Target, logical_id: str) -> dict[str, str]:
    """The environment a function runs with: the deployed function's, or locally the template's defaults."""
    if not target.local:
        name = target.physical(logical_id)
        config = target.client("lambda").get_function_configuration(FunctionName=name)
        return config.get("Environment", {}).get("Variables", {})
    fn = next(f for f in target.template.functions() if f.logical_id == logical_id)
    parameters = target.template.parameters
    return {k: str(parameters.get(v["Ref"], "")) if isinstance(v, dict) and "Ref" in v else str(v)
            for k, v in fn.environment.items() if not isinstance(v, dict) or v.get("Ref") in parameters}  # fmt: skip


def counting(target: Target) -> Counting:
    """How the stack's writers store what a response counts for: its ingest function's segments and taxonomy."""
    from npsloop.aggregation import counted_segments
    from npsloop.analysis.themes import Taxonomy
    from npsloop.stores.responses import Counting

    env = function_environment(target, "IngestWebhookFunction")
    segments = counted_segments(s.strip() for s in env.get("CUSTOM_SEGMENTS", "").split(","))
    return Counting(segments, Taxonomy.configured(env.get("THEME_TAXONOMY", "")).themes_of)


def add_parsers(commands: Any) -> None:
    report = commands.add_parser("report", help="NPS by period with margins and significant changes, as a table")
    report.add_argument("--segment", default="overall", help="overall, source, touchpoint, account, campaign or a "
                        "configured custom attribute")  # fmt: skip
    report.add_argument("--value", help="the segment's value (not for overall)")
    report.add_argument("--period", default="month", choices=["day", "week", "month", "quarter"])
    report.add_argument("--from", dest="first", help="first day, YYYY-MM-DD (default: twelve periods back)")
    report.add_argument("--to", dest="last", help="last day, YYYY-MM-DD (default: today)")
    report.add_argument("--format", default="table", choices=["table", "csv", "json"])
    add_target_arguments(report)
    report.set_defaults(run=report_command)

    again = commands.add_parser("reaggregate", help="recount every stored response with the current segments, "
                                "periods and themes (live traffic stays counted exactly once)")  # fmt: skip
    again.add_argument("--quiet", action="store_true", help="no progress bar")
    add_target_arguments(again)
    again.set_defaults(run=reaggregate_command)


def report_command(args: argparse.Namespace) -> int:
    from npsloop.aggregation import BUILT_IN_SEGMENTS
    from npsloop.errors import NpsloopError
    from npsloop.reports import NpsQuery, nps_report
    from npsloop.stores.aggregates import AggregateStore
    from npsloop.stores.responses import AccountCounts

    try:
        target = Target.from_args(args)
        env = function_environment(target, "ReportsApiFunction")
        custom = [s.strip() for s in env.get("CUSTOM_SEGMENTS", "").split(",") if s.strip()]
        segments = tuple(dict.fromkeys([*BUILT_IN_SEGMENTS, *custom]))
        params = {"segment": args.segment, "value": args.value, "period": args.period, "from": args.first,
                  "to": args.last}  # fmt: skip
        query = NpsQuery.parse(params, segments, datetime.now(UTC).date())
        dynamodb = target.client("dynamodb")
        store = AggregateStore(target.physical("AggregatesTable"), dynamodb)
        accounts = AccountCounts(target.physical("ResponsesTable"), dynamodb)
        report = nps_report(store, query, accounts).as_json()
    except (TargetError, NpsloopError) as exc:
        print(f"npsloop report: {getattr(exc, 'message', exc)}", file=sys.stderr)
        return 1
    if args.format == "json":
        print(json.dumps(report, indent=2))
    elif args.format == "csv":
        writer = csv.DictWriter(sys.stdout, fieldnames=list(report["periods"][0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(report["periods"])
    else:
        print(table(report))
    return 0


def _fmt(value: Any, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    return str(value)


def table(report: dict[str, Any]) -> str:
    head = ["period", "responses", "promoters", "passives", "detractors", "NPS", "±margin", "low", "high", "change",
            "significant"]  # fmt: skip
    rows = [[r["period"], _fmt(r["responses"]), _fmt(r["promoters"]), _fmt(r["passives"]), _fmt(r["detractors"]),
             _fmt(r["nps"]), _fmt(r["margin"]), _fmt(r["low"]), _fmt(r["high"]), _fmt(r["change"], sign=True),
             _fmt(r["significant"])] for r in report["periods"]]  # fmt: skip
    widths = [max(len(str(c)) for c in column) for column in zip(head, *rows, strict=True)]
    lines = [f"NPS of {report['segment']}={report['value']} by {report['period']}, {report['from']} to {report['to']} "
             "(95% margin of error; a change is significant at 95%)", ""]  # fmt: skip
    for i, row in enumerate([head, *rows]):
        cells = zip(row, widths, strict=True)
        lines.append("  ".join(c.ljust(w) if j == 0 else c.rjust(w) for j, (c, w) in enumerate(cells)))
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def reaggregate_command(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from npsloop.reaggregate import reaggregate
    from npsloop.stores.responses import ResponseScan

    try:
        target = Target.from_args(args)
        scan = ResponseScan(target.physical("ResponsesTable"), target.client("dynamodb"))
        with tqdm(total=scan.count() or None, unit="responses", disable=args.quiet, file=sys.stderr) as bar:
            progress = reaggregate(scan, counting(target), bar.update)
    except TargetError as exc:
        print(f"npsloop reaggregate: {exc}", file=sys.stderr)
        return 1
    print(f"{progress.seen} responses: {progress.recounted} recounted (compute_score moves their counts), "
          f"{progress.current} already current, {len(progress.gave_up)} changed meanwhile")  # fmt: skip
    if progress.gave_up:
        print("run it again for: " + ", ".join(progress.gave_up[:20]), file=sys.stderr)
        return 1
    return 0
