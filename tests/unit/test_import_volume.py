"""`npsloop import` at volume, on in-memory ports: 10,000 Delighted rows are 10,000 historical responses, each
counted once (aggregates equal a hand count), with no alert; the progress bar runs while it works."""

from collections import Counter
from datetime import UTC, datetime, timedelta

from npsloop.compute import count_changes
from npsloop.mapping import MappingDocument
from npsloop.models import ScoredEvent
from npsloop.notify import service as notify_service
from npsloop_local.history import Ports, import_csv
from tests.fakes import FakeAggregateStore, FakeBus, FakeResponseStore
from tests.integration.test_history import delighted_csv


def test_10000_delighted_rows_are_counted_once_without_alerts(tmp_path, capsys):
    path = tmp_path / "export.csv"
    scores = delighted_csv(path, 10_000)
    store = FakeResponseStore()
    ports = Ports(archive=None, store=store, fetch_queue=None, mappings=MappingDocument)
    report = import_csv(None, path, "delighted", ports=ports, progress=True)
    assert report.counts == Counter({"recorded": 10_000}) and not report.problems
    assert len(store.items) == 10_000 and all(s.historical for s in store.items.values())
    err = capsys.readouterr().err
    assert "importing export.csv" in err and "10000/10000" in err

    assert len(store.stream) == 10_000
    aggregates, scored_bus = FakeAggregateStore(), FakeBus()
    for start in range(0, len(store.stream), 1000):  # the stream, as Lambda hands it to compute_score
        assert count_changes(store.stream[start : start + 1000], aggregates, scored_bus, store) is None
    expected = Counter()
    for n, score in enumerate(scores):
        month = f"{datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=7 * n):%Y-%m}"
        expected[(month, "responses")] += 1
        expected[(month, "promoters" if score >= 9 else "passives" if score >= 7 else "detractors")] += 1
    for month in {m for m, _ in expected}:
        counted = aggregates.get("overall#all", f"month#{month}")
        for kind in ("responses", "promoters", "passives", "detractors"):
            assert counted.get(kind, 0) == expected[(month, kind)], (month, kind)
    assert (
        sum(aggregates.get("source#delighted", f"month#{m}")["responses"] for m in {m for m, _ in expected}) == 10_000
    )

    scored = [ScoredEvent.model_validate(detail) for _, detail in scored_bus.facts]
    assert len(scored) == 10_000 and sum(e.category.value == "Detractor" for e in scored) > 3000
    # history is not news: notify's one filter lets none of them through to alerts, emails or Zapier
    assert notify_service.live([(f"m{i}", "ResponseScored", e) for i, e in enumerate(scored)]) == []

    again = import_csv(None, path, "delighted", ports=ports, progress=False)
    assert again.counts == Counter({"duplicate": 10_000}) and len(store.stream) == 10_000
