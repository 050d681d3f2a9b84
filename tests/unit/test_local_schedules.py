"""The local stack's schedules: rate() periods, the EventBridge scheduled-event shape the handler reads its time
from, and the timer that fires a rate() schedule."""

import threading
from datetime import UTC, datetime

import pytest

from npsloop.envelopes import scheduled_time
from npsloop_local.schedules import ScheduleTimer, scheduled_event
from npsloop_local.template import Function, Schedule, Template


@pytest.mark.parametrize(("expression", "seconds"), [
    ("rate(1 hour)", 3600), ("rate(5 minutes)", 300), ("rate(1 minute)", 60), ("rate(2 days)", 172800),
    ("cron(0 * * * ? *)", None), ("rate(one hour)", None),
])  # fmt: skip
def test_rate_expressions_have_a_period_and_cron_has_none(expression, seconds):
    assert Schedule("Hourly", expression).seconds == seconds


def test_the_template_schedules_the_reminder_run_hourly():
    scheduled = {fn.logical_id: fn.schedules for fn in Template().functions() if fn.schedules}
    assert scheduled == {"RemindSurveysFunction": [Schedule("Hourly", "rate(1 hour)")]}


def test_the_handler_reads_the_time_of_the_event_eventbridge_sends():
    at = datetime(2026, 3, 1, 9, 0, 0, tzinfo=UTC)
    event = scheduled_event("RemindSurveysFunction", "Hourly", at)
    assert event["detail-type"] == "Scheduled Event" and event["source"] == "aws.events"
    assert event["time"] == "2026-03-01T09:00:00Z" and scheduled_time(event) == at
    assert scheduled_time({"time": "2026-03-01T10:00:00+01:00"}) == at
    with pytest.raises(KeyError):
        scheduled_time({})


def test_the_timer_fires_once_per_period_and_stops():
    fired = []
    done = threading.Event()

    def invoke(event):
        fired.append(event)
        done.set()

    timer = ScheduleTimer(Function("F", "f.handler", 3, 128, {}), "Every", 1, invoke)
    timer.start()
    assert done.wait(5)
    timer.stop()
    assert not timer.is_alive() and fired[0]["resources"][0].endswith(":rule/FEvery")
