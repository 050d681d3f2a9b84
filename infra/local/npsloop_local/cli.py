"""The `npsloop` command: run the local stack, and send signed test deliveries to it."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from npsloop_local.stack import DEFAULT_SECRETS, LocalStack, StackConfigError, StackOptions


def _local(args: argparse.Namespace) -> int:
    options = StackOptions(port=args.port, salesforce_port=args.salesforce_port, aws_port=args.aws_port,
                           state_dir=args.state_dir, api_keys=args.api_key, secrets_file=args.secrets,
                           mapping_file=args.mapping)  # fmt: skip
    try:
        stack = LocalStack(options)
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
    """POST a body to the local stack signed the way the source signs, and print the answer."""
    import requests

    from npsloop_local.signing import standard_webhooks_headers, typeform_signature

    secrets = json.loads((args.secrets or DEFAULT_SECRETS).read_text())
    secret = secrets.get("sources", {}).get(args.source, {}).get("signing_secret", "")
    body = Path(args.file).read_bytes() if args.file != "-" else sys.stdin.buffer.read()
    headers = {"Content-Type": "application/json"}
    if args.source == "typeform":
        headers["Typeform-Signature"] = typeform_signature(secret, body)
    elif secret:
        headers.update(standard_webhooks_headers(secret, body))
    answer = requests.post(f"{args.url.rstrip('/')}/webhooks/{args.source}", data=body, headers=headers, timeout=30)
    print(answer.status_code, answer.text)
    return 0 if answer.status_code < 400 else 1


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
    local.add_argument("--mapping", type=Path, help="the field mapping document (default: mapping.default.json)")
    local.set_defaults(run=_local)

    send = commands.add_parser("send", help="POST a JSON body to the local stack, signed as SOURCE signs")
    send.add_argument("source", help="generic or typeform")
    send.add_argument("file", help="the JSON body ('-' for standard input)")
    send.add_argument("--url", default="http://127.0.0.1:3000", help="the stack's HTTP API")
    send.add_argument("--secrets", type=Path, help="the same --secrets file the stack was started with")
    send.set_defaults(run=_send)

    args = parser.parse_args(argv)
    return args.run(args)


if __name__ == "__main__":
    sys.exit(main())
