"""The local stack as a developer meets it: the printed curl line works, workers come back, state persists, it stops."""

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from .conftest import start_local, stop_local
from .test_pipeline import post_generic

pytestmark = pytest.mark.e2e


def worker_pids(stack, function=None):
    """Processes whose environment points at this stack's moto: its function workers."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        if f"AWS_ENDPOINT_URL={stack.aws}".encode() in environ and (
            function is None or f"AWS_LAMBDA_FUNCTION_NAME={function}".encode() in environ
        ):
            pids.append(int(proc.name))
    return pids


def test_printed_curl_line_works_and_sigterm_stops_every_process(tmp_path):
    stack = start_local(tmp_path)
    try:
        line = next(ln.strip() for ln in stack.log.read_text().splitlines() if ln.strip().startswith("curl "))
        args = shlex.split(line)
        assert args[args.index("-X") + 2].startswith(stack.api)
        body = args[args.index("--data") + 1].encode()
        headers = dict(h.split(": ", 1) for h in (args[i + 1] for i, a in enumerate(args) if a == "-H"))
        answer = requests.post(args[args.index("-X") + 2], data=body, headers=headers, timeout=30)
        assert (answer.status_code, answer.json()) == (202, {"response_id": "typeform:local-example-1"})
        assert len(worker_pids(stack)) == 6  # two HTTP workers for ingest, one per queue consumer
    finally:
        assert stop_local(stack) == 0
    time.sleep(0.5)
    assert worker_pids(stack) == []
    assert "npsloop local: stopping" in stack.log.read_text()


def test_a_worker_that_dies_is_replaced(tmp_path):
    stack = start_local(tmp_path)
    try:
        for pid in worker_pids(stack, "IngestWebhookFunction"):
            os.kill(pid, signal.SIGKILL)
        time.sleep(0.3)
        answer = post_generic(stack, {"response_id": "after-kill", "score": 8})
        assert answer.status_code == 202, answer.text
        assert len(worker_pids(stack, "IngestWebhookFunction")) >= 1
    finally:
        stop_local(stack)


def test_state_dir_keeps_data_between_runs_and_a_fresh_start_is_empty(tmp_path):
    state = tmp_path / "state"
    stack = start_local(tmp_path, "--state-dir", str(state))
    try:
        assert post_generic(stack, {"response_id": "kept", "score": 10}).status_code == 202
        stack.wait_for(
            lambda: any(r["Response_Id__c"] == "generic:kept" for r in stack.records("NPS_Response__c")),
            what="the synced record",
        )
    finally:
        stop_local(stack)
    again = start_local(tmp_path, "--state-dir", str(state))
    try:
        answer = post_generic(again, {"response_id": "kept", "score": 10})
        assert answer.json() == {"duplicate": True, "response_id": "generic:kept"}
        assert any(r["Response_Id__c"] == "generic:kept" for r in again.records("NPS_Response__c"))
    finally:
        stop_local(again)
    fresh = start_local(tmp_path)
    try:
        assert fresh.records("NPS_Response__c") == []
        assert post_generic(fresh, {"response_id": "kept", "score": 10}).status_code == 202
    finally:
        stop_local(fresh)


def test_secrets_file_without_sources_is_refused_with_a_clear_message(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"salesforce": {}}))
    npsloop = Path(sys.executable).with_name("npsloop")
    done = subprocess.run([str(npsloop), "local", "--secrets", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert '"sources"' in done.stderr
