"""npsloop.calls: independent calls side by side, answered in order, none left running after a failure."""

import threading
import time

import pytest

from npsloop.calls import side_by_side


def test_calls_run_side_by_side_and_answer_in_the_items_order():
    running, most = [0], [0]
    lock = threading.Lock()

    def call(n):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.02 * (5 - n % 5))  # later items end first
        with lock:
            running[0] -= 1
        return n * n

    assert side_by_side(call, range(10), workers=4) == [n * n for n in range(10)]
    assert most[0] == 4


def test_a_failed_call_is_raised_once_every_other_call_has_ended():
    ended = []

    def call(n):
        if n == 0:
            raise ValueError("refused")
        time.sleep(0.05)
        ended.append(n)

    with pytest.raises(ValueError, match="refused"):
        side_by_side(call, range(4))
    assert sorted(ended) == [1, 2, 3]
