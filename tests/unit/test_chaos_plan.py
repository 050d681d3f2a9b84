"""The chaos run's plan and truth (pure): who is sent when, what must count, and how the checks read."""

from collections import Counter

from npsloop_local.chaos import check_records, compare_counts, expected_counts, final_line, plan_run


def _where(plan):
    """response id -> [(wave, kind, score)] in sending order."""
    out = {}
    for number, wave in enumerate(plan.waves):
        for d in wave:
            out.setdefault(d.answer["response_id"], []).append((number, d.kind, d.answer["score"]))
    return out


def test_the_plan_sends_every_response_with_its_share_of_duplicates_and_updates():
    plan = plan_run(1000, waves=10, seed=3)
    kinds = Counter(d.kind for wave in plan.waves for d in wave)
    assert len(plan.latest) == 1000 and kinds["first"] == 1000
    assert kinds["duplicate"] == plan.duplicates == 200
    assert kinds["update"] == plan.updates == 30 and kinds["late"] == plan.out_of_order == 30
    assert plan.deliveries == 1260


def test_revision_2_follows_revision_1_in_a_later_wave_unless_it_comes_first_on_purpose():
    plan = plan_run(1000, waves=10, seed=3)
    for rid, sent in _where(plan).items():
        firsts = [s for s in sent if s[1] == "first"]
        seconds = [s for s in sent if s[1] in ("update", "late")]
        if seconds:
            assert seconds[0][0] > firsts[0][0], rid  # strictly later: the earlier one is stored for sure
            duplicates = [s for s in sent if s[1] == "duplicate"]
            assert all(firsts[0][0] <= d[0] < seconds[0][0] for d in duplicates), rid
        latest = plan.latest[rid]["score"]
        if seconds and seconds[0][1] == "update":
            assert latest == seconds[0][2] != firsts[0][2]
        else:  # no update, or revision 2 was the first delivery and revision 1 comes late (stale)
            assert latest == firsts[0][2]


def test_the_plan_is_reproducible():
    assert plan_run(200, seed=5).latest == plan_run(200, seed=5).latest
    assert plan_run(200, seed=5).latest != plan_run(200, seed=6).latest


def test_the_truth_counts_each_response_once_in_every_segment_and_period():
    latest = [
        {"response_id": "a", "score": 10, "email": "x@chaos.example", "touchpoint": "support",
         "responded_at": "2026-08-14T10:00:00+00:00"},
        {"response_id": "b", "score": 3, "email": "nobody@chaos.example", "touchpoint": "support",
         "campaign": "autumn", "responded_at": "2026-08-15T10:00:00+00:00"},
    ]  # fmt: skip
    counts = expected_counts(latest, {"x@chaos.example": "001A"})
    assert counts[("overall#all", "month#2026-08")] == Counter(responses=2, promoters=1, detractors=1, score_10=1,
                                                               score_3=1)  # fmt: skip
    assert counts[("touchpoint#support", "month#2026-08")]["responses"] == 2
    assert ("touchpoint#support", "week#2026-W33") not in counts  # weeks and quarters are summed when read
    assert counts[("campaign#autumn", "day#2026-08-15")] == Counter(responses=1, detractors=1, score_3=1)
    assert counts[("account#001A", "month#2026-08")] == Counter(responses=1, promoters=1, score_10=1)
    assert ("account#001A", "day#2026-08-14") not in counts  # accounts are counted by month only
    assert not any(pk.startswith("campaign#") for pk, sk in counts if sk == "day#2026-08-14")
    # overall, source and touchpoint by day and month, the account's month; the second answer adds its own day for
    # those three segments (same month) and its campaign's day and month
    assert len(counts) == 3 * 2 + 1 + 3 + 2


def test_counts_are_compared_on_responses_categories_and_scores_only():
    expected = {("overall#all", "month#2026-08"): Counter(responses=2, promoters=1, passives=1, score_9=1, score_7=1)}
    same = {("overall#all", "month#2026-08"): {"pk": 0, "responses": 2, "promoters": 1, "passives": 1,
                                               "detractors": 0, "score_9": 1, "score_7": 1,
                                               "theme_promoters_price": 1}}  # fmt: skip
    assert compare_counts(expected, same) == []
    counted_twice = {("overall#all", "month#2026-08"): {"responses": 3, "promoters": 2, "passives": 1, "score_9": 2,
                                                        "score_7": 1},
                     ("source#generic", "month#2026-08"): {"responses": 1}}  # fmt: skip
    problems = compare_counts(expected, counted_twice)
    assert problems == ["overall#all month#2026-08: promoters 2 (truth 1), responses 3 (truth 2), score_9 2 (truth 1)",
                        "source#generic month#2026-08: responses 1 (truth 0)"]  # fmt: skip


def test_records_are_checked_for_duplicates_losses_strangers_and_stale_scores():
    latest = {"chaos-1": {"score": 9}, "chaos-2": {"score": 3}, "chaos-3": {"score": 7}}
    records = [{"Response_Id__c": f"generic:{rid}", "Score__c": score}
               for rid, score in (("chaos-1", 9), ("chaos-1", 9), ("chaos-2", 5), ("other", 1))]  # fmt: skip
    check = check_records(records, latest)
    assert (check.in_salesforce, check.duplicates, check.lost, check.unknown) == (2, 1, 1, 1)
    assert check.outdated == ["chaos-2"]
    assert final_line(3, check, 4) == "3 sent, 2 in Salesforce, 1 duplicates, 1 lost, DLQ 4"
