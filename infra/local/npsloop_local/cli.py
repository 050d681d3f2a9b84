"""The `npsloop` command: run the local stack, and send signed test deliveries to it."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from npsloop_local.analytics import add_parsers as add_analytics_parsers
from npsloop_local.ops import add_target_arguments
from npsloop_local.stack import DEFAULT_SECRETS, LocalStack, StackConfigError, StackOptions


def _parameters(given: list[str], command: str) -> dict[str, str] | None:
    """`--parameter NAME=VALUE` options as a dict, or None (after saying why) when one is not NAME=VALUE."""
    bad = [p for p in given if "=" not in p]
    if bad:
        print(f"npsloop {command}: --parameter takes NAME=VALUE, got {bad[0]!r}", file=sys.stderr)
        return None
    return dict(p.split("=", 1) for p in given)


def _local(args: argparse.Namespace) -> int:
    from npsloop_local.template import Template

    options = StackOptions(port=args.port, salesforce_port=args.salesforce_port, aws_port=args.aws_port,
                           state_dir=args.state_dir, api_keys=args.api_key, secrets_file=args.secrets,
                           allow_loopback_targets=args.allow_loopback_targets, mapping_file=args.mapping)  # fmt: skip
    parameters = _parameters(args.parameter, "local")
    if parameters is None:
        return 2
    template = Template()
    unknown = sorted(set(parameters) - set(template.parameters))
    if unknown:
        print(f"npsloop local: template.yaml has no parameter {', '.join(unknown)}", file=sys.stderr)
        return 2
    template.parameters.update(parameters)
    try:
        stack = LocalStack(options, template)
    except StackConfigError as exc:
        print(f"npsloop local: {exc}", file=sys.stderr)
        return 2
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stopped.wait()
    except OSError as exc:
        print(f"npsloop local: cannot start: {exc}", file=sys.stderr)
        return 1
    finally:
        print("npsloop local: stopping", flush=True)
        stack.stop()
    return 0


def _send(args: argparse.Namespace) -> int:
    """POST a body to the local stack authenticated as the source does (signature or token); print the answer."""
    import requests

    from npsloop_local.signing import sign

    secrets = json.loads((args.secrets or DEFAULT_SECRETS).read_text())
    secret = secrets.get("sources", {}).get(args.source, {})
    body = Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read()
    headers = {"Content-Type": args.content_type}
    try:
        headers.update(sign(args.source, body, secret))
    except KeyError as exc:
        print(f"npsloop send: the secrets have no {exc} for {args.source}", file=sys.stderr)
        return 2
    answer = requests.post(f"{args.url.rstrip('/')}/webhooks/{args.source}", data=body, headers=headers, timeout=30)
    print(answer.status_code, answer.text)
    return 0 if answer.status_code < 400 else 1


def _apikey(args: argparse.Namespace) -> int:
    """Create (printed once, only its hash is stored), list or revoke API keys of a stack."""
    from npsloop.apikeys import ApiKeyStore, new_key
    from npsloop_local.ops import Target, TargetError

    try:
        target = Target.from_args(args)
        store = ApiKeyStore(target.physical("ApiKeysTable"), target.client("dynamodb"))
        if args.action == "create":
            key = new_key()
            record = store.add(key, args.name)
            print(f"{key}\n(key id {record.key_id}; this is the only time the key is shown)")
        elif args.action == "list":
            for record in store.list():
                state = "revoked" if record.revoked else "active"
                print(f"{record.key_id}  {state:8} {record.created_at}  {record.name}")
        elif not store.revoke(args.key_id):
            print(f"npsloop apikey: no key with id {args.key_id}", file=sys.stderr)
            return 1
        else:
            print(f"revoked {args.key_id}")
    except TargetError as exc:
        print(f"npsloop apikey: {exc}", file=sys.stderr)
        return 1
    return 0


def _redrive(args: argparse.Namespace) -> int:
    from npsloop_local.ops import Target, TargetError
    from npsloop_local.salesforce_ops import redrive

    try:
        moved = redrive(Target.from_args(args), args.queue)
    except TargetError as exc:
        print(f"npsloop redrive: {exc}", file=sys.stderr)
        return 1
    for queue, count in moved.items():
        print(f"{count} messages back in {queue}")
    return 0


def _backfill(args: argparse.Namespace) -> int:
    from npsloop_local.ops import Target, TargetError
    from npsloop_local.salesforce_ops import backfill, parse_since

    try:
        report = backfill(Target.from_args(args), parse_since(args.since), with_tasks=args.with_tasks)
    except (TargetError, ValueError) as exc:
        print(f"npsloop backfill: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def _bench(args: argparse.Namespace) -> int:
    from npsloop_local import bench

    bench.run(args.which, as_json=args.json)
    return 0


def _chaos(args: argparse.Namespace) -> int:
    from npsloop_local.chaos import ChaosOptions, run

    kills = tuple(k for k in args.kill.split(",") if k)
    parameters = _parameters(args.parameter, "chaos")
    if parameters is None:
        return 2
    return run(ChaosOptions(responses=args.responses, waves=args.waves, deadline_seconds=args.deadline,
                            outage_seconds=args.outage, burst=args.burst, kills=kills,
                            visibility_seconds=args.visibility, seed=args.seed,
                            parameters=parameters, log_path=args.log))  # fmt: skip


def _hooks(args: argparse.Namespace) -> int:
    """Subscribe a URL (a "Webhooks by Zapier" Catch Hook, say) to an event, list subscriptions, remove one."""
    from npsloop.hooks.store import HookStore
    from npsloop.hooks.targets import UnsafeTargetError, check
    from npsloop_local.ops import Target, TargetError

    try:
        target = Target.from_args(args)
        store = HookStore(target.physical("HooksTable"), target.client("dynamodb"))
        if args.action == "add":
            if args.allow_loopback_targets and not target.local:
                print("npsloop hooks: --allow-loopback-targets is for the local stack only", file=sys.stderr)
                return 2
            check(args.url, allow_loopback=args.allow_loopback_targets)
            sub = store.add(args.url, args.event, "cli")
            print(f"{sub.id}  {sub.event}  {sub.target_url}\nsigning secret (Standard Webhooks): {sub.secret}")
        elif args.action == "list":
            for sub in store.list():
                print(f"{sub.id}  {sub.event:20} {sub.created_at}  {sub.created_by:12} {sub.target_url}")
        elif not store.delete(args.id):
            print(f"npsloop hooks: no subscription {args.id}", file=sys.stderr)
            return 1
        else:
            print(f"removed {args.id}")
    except UnsafeTargetError as exc:
        print(f"npsloop hooks: {exc.message}", file=sys.stderr)
        return 2
    except TargetError as exc:
        print(f"npsloop hooks: {exc}", file=sys.stderr)
        return 1
    return 0


def _when(value: str | None) -> datetime | None:
    """A date or date-time on the command line (UTC when no zone is given)."""
    if not value:
        return None
    at = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _replay(args: argparse.Namespace) -> int:
    from npsloop_local.history import replay
    from npsloop_local.ops import Target, TargetError

    if not (args.rejected or args.since or args.until):
        print("npsloop replay: say what to replay: --rejected and/or --since/--until", file=sys.stderr)
        return 2
    try:
        report = replay(Target.from_args(args), source=args.source, rejected_only=args.rejected,
                        since=_when(args.since), until=_when(args.until),
                        historical_after=timedelta(days=args.historical_after_days))  # fmt: skip
    except (TargetError, ValueError) as exc:
        print(f"npsloop replay: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def _import(args: argparse.Namespace) -> int:
    from npsloop_local.history import import_csv
    from npsloop_local.ops import Target, TargetError

    try:
        report = import_csv(Target.from_args(args), args.file, args.source)
    except (TargetError, ValueError, OSError) as exc:
        print(f"npsloop import: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def _erase(args: argparse.Namespace) -> int:
    from npsloop_local.erase import EraseError, erase
    from npsloop_local.ops import Target, TargetError

    try:
        report = erase(Target.from_args(args), args.email, salesforce=not args.no_salesforce)
    except (TargetError, EraseError) as exc:
        print(f"npsloop erase: {exc}", file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 1 if report.failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="npsloop", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    local = commands.add_parser("local", help="run the whole stack on this machine: no AWS account, no Docker")
    local.add_argument("--port", type=int, default=3000, help="HTTP API port (default 3000)")
    local.add_argument("--salesforce-port", type=int, default=3001, help="Salesforce stand-in port (default 3001)")
    local.add_argument("--aws-port", type=int, default=3002, help="moto server port, for the AWS CLI or boto3 (3002)")
    local.add_argument("--state-dir", type=Path, help="keep data here between runs (default: start empty)")
    local.add_argument("--api-key", action="append", default=[], help="an API key accepted from the start (repeatable)")
    local.add_argument("--secrets", type=Path, help="JSON shaped like the deployed secret; only 'sources' is required")
    local.add_argument(
        "--allow-loopback-targets",
        action="store_true",
        help="let hooks target http://127.0.0.1 (for tests; nothing else private is admitted)",
    )
    local.add_argument("--mapping", type=Path, help="the field mapping document (default: mapping.default.json)")
    local.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                       help="a template parameter instead of its default, e.g. SyncBackoffSeconds=1 (repeatable)")
    local.set_defaults(run=_local)

    send = commands.add_parser("send", help="POST a body to the local stack, signed as SOURCE signs")
    send.add_argument("source", help="typeform, tally, survicate, surveymonkey, formbricks, generic, jotform, ...")
    send.add_argument("file", help="the body ('-' for standard input)")
    send.add_argument("--content-type", default="application/json", help="the Content-Type (default JSON)")
    send.add_argument("--url", default="http://127.0.0.1:3000", help="the stack's HTTP API")
    send.add_argument("--secrets", type=Path, help="the same --secrets file the stack was started with")
    send.set_defaults(run=_send)

    apikey = commands.add_parser("apikey", help="API keys for the endpoints that require one")
    actions = apikey.add_subparsers(dest="action", required=True)
    create = actions.add_parser("create", help="make a key; it is printed once, only its hash is kept")
    create.add_argument("--name", required=True, help="who or what uses the key, e.g. 'zapier'")
    actions.add_parser("list", help="key ids, names, states")
    revoke = actions.add_parser("revoke", help="stop a key from working (within a minute)")
    revoke.add_argument("key_id", help="the key id shown by create/list (or the key itself)")
    for action in (create, actions.choices["list"], revoke):
        add_target_arguments(action)
    apikey.set_defaults(run=_apikey)

    redrive = commands.add_parser("redrive", help="move every DLQ's messages back to the queue they came from")
    redrive.add_argument("--queue", help="only this queue or DLQ (logical id, e.g. SyncQueue)")
    add_target_arguments(redrive)
    redrive.set_defaults(run=_redrive)

    backfill = commands.add_parser(
        "backfill", help="re-sync stored responses into Salesforce (Bulk API 2.0 past 2,000)"
    )
    backfill.add_argument("--since", required=True, help="responses answered on or after this date (2026-01-31)")
    backfill.add_argument("--with-tasks", action="store_true", help="also create detractor Tasks (off by default)")
    add_target_arguments(backfill)
    backfill.set_defaults(run=_backfill)

    from npsloop_local.bench import PRODUCERS

    bench = commands.add_parser("bench", help="measure: " + "; ".join(h for _, h in PRODUCERS.values()))
    bench.add_argument("which", nargs="*", choices=sorted(PRODUCERS), help="what to measure (default: everything)")
    bench.add_argument("--json", action="store_true", help="one JSON object per figure and line")
    bench.set_defaults(run=_bench)

    chaos = commands.add_parser("chaos", help="responses through a fresh local stack while Salesforce and the "
                                "workers fail; checks nothing is lost or doubled (make chaos)")  # fmt: skip
    chaos.add_argument("--responses", type=int, default=10_000, help="distinct responses to send (default 10000)")
    chaos.add_argument("--waves", type=int, default=20, help="waves sent one after another (default 20)")
    chaos.add_argument("--deadline", type=float, default=600, help="fail when not done after this many s (600)")
    chaos.add_argument("--outage", type=float, default=60, help="seconds the stand-in answers 503 (default 60)")
    chaos.add_argument("--burst", type=int, default=5, help="REQUEST_LIMIT_EXCEEDED answers per burst (default 5)")
    chaos.add_argument("--kill", default="SyncSalesforceFunction,ComputeScoreFunction",
                       help="functions whose worker is SIGKILLed mid-batch, in order (comma-separated)")  # fmt: skip
    chaos.add_argument("--visibility", type=int, help="consumer queues' visibility timeout in s (default: template's)")
    chaos.add_argument("--parameter", action="append", default=[], metavar="NAME=VALUE",
                       help="a template parameter for this run, e.g. SyncBackoffSeconds=1 (repeatable)")  # fmt: skip
    chaos.add_argument("--seed", type=int, default=8, help="seed of the generated responses")
    chaos.add_argument("--log", type=Path, help="keep the stack's log in this file (default: a temporary one)")
    chaos.set_defaults(run=_chaos)

    from npsloop.hooks import EVENTS

    hooks = commands.add_parser("hooks", help="REST-hook subscriptions, e.g. a 'Webhooks by Zapier' Catch Hook URL")
    hook_actions = hooks.add_subparsers(dest="action", required=True)
    add = hook_actions.add_parser("add", help="deliver EVENT to URL (prints the subscription's signing secret)")
    add.add_argument("--url", required=True, help="https URL of a public host, e.g. https://hooks.zapier.com/...")
    add.add_argument("--event", required=True, choices=EVENTS)
    add.add_argument("--allow-loopback-targets", action="store_true", help="admit http://127.0.0.1 (local tests)")
    hook_actions.add_parser("list", help="subscriptions: id, event, created, by whom, URL")
    remove = hook_actions.add_parser("remove", help="stop deliveries to a subscription")
    remove.add_argument("id", help="the subscription id shown by add/list")
    for action in (add, hook_actions.choices["list"], remove):
        add_target_arguments(action)
    hooks.set_defaults(run=_hooks)

    add_analytics_parsers(commands)  # report, reaggregate
    replay = commands.add_parser("replay", help="re-ingest archived deliveries, e.g. after a field mapping fix")
    replay.add_argument("--source", help="only this source's deliveries (default: every source)")
    replay.add_argument("--rejected", action="store_true", help="only deliveries that were rejected")
    replay.add_argument("--since", help="received at or after this date or time (UTC unless given)")
    replay.add_argument("--until", help="received before this date or time")
    replay.add_argument(
        "--historical-after-days",
        type=float,
        default=7.0,
        help="deliveries older than this are historical: counted and synced, no alert (default 7)",
    )
    add_target_arguments(replay)
    replay.set_defaults(run=_replay)

    history = commands.add_parser("import", help="import history from a CSV export through the same pipeline")
    history.add_argument("file", type=Path, help="the CSV file")
    history.add_argument(
        "--source",
        required=True,
        choices=("delighted", "generic"),
        help="delighted: Delighted's response export; generic: npsloop's documented columns",
    )
    add_target_arguments(history)
    history.set_defaults(run=_import)

    erase = commands.add_parser(
        "erase", help="remove a person from responses, archive, queues and Salesforce; keep only a hash (GDPR)"
    )
    erase.add_argument("--email", required=True, help="the person's email address (any case)")
    erase.add_argument("--no-salesforce", action="store_true", help="leave Salesforce alone (no org connected)")
    add_target_arguments(erase)
    erase.set_defaults(run=_erase)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
