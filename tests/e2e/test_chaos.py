"""`npsloop chaos` at small scale: the same run as `make chaos`, with 150 responses and short faults and timeouts."""

import pytest

from npsloop_local.chaos import ChaosOptions, run

pytestmark = pytest.mark.e2e


def test_a_small_chaos_run_loses_nothing_and_doubles_nothing():
    # Given 150 responses (30 duplicates, updates in and out of order), a 2 s outage, a session expiry, two bursts
    # of REQUEST_LIMIT_EXCEEDED, and the sync's and compute_score's workers SIGKILLed mid-batch; killed batches come
    # back after 5 s instead of the template's minutes, and the sync's backoff starts at 1 s instead of 5 and stops
    # doubling at 8 s (a message holds up to 40 responses, so each fault that meets one of them brings it back)
    lines = []
    options = ChaosOptions(responses=150, waves=6, outage_seconds=2, burst=2, visibility_seconds=5,
                           parameters={"SyncBackoffSeconds": "1", "SyncBackoffMaxSeconds": "8"}, deadline_seconds=150,
                           say=lines.append)  # fmt: skip
    # When it runs
    status = run(options)
    # Then every check held, and the figures say so
    output = "\n".join(lines)
    assert status == 0, output
    assert lines[-1] == "150 sent, 150 in Salesforce, 0 duplicates, 0 lost, DLQ 0", output
    assert "2 SIGKILL mid-batch" in output and "4 stale" in output and ", 0 differ" in output, output
