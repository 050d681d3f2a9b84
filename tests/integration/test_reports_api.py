"""The reports function in-process on moto: /nps equals a hand computation, CSV export, the dashboard's session."""

import csv
import io
import json

import pytest
from reports_api import handler as reports

from npsloop.apikeys import ApiKeyStore
from npsloop_local.http_api import http_event
from npsloop_local.template import Route

from ..seed import BY_HAND, margin_by_hand


def call(context, method, path, params=None, headers=None, body=b"", cookies=()):
    query = "&".join(f"{k}={v}" for k, v in (params or {}).items())
    hdrs = list((headers or {}).items()) + ([("cookie", "; ".join(cookies))] if cookies else [])
    event = http_event(method, f"{path}?{query}" if query else path, hdrs, body, Route(method, path), {}, "127.0.0.1")
    return reports.lambda_handler(event, context)


def nps(context, key, **params):
    result = call(context, "GET", "/nps", params, {"X-Api-Key": key})
    return result["statusCode"], json.loads(result["body"])


def test_nps_by_month_equals_the_hand_computation(seeded, context):
    status, body = nps(context, seeded, period="month", **{"from": "2026-03-01", "to": "2026-08-31"})
    assert status == 200
    assert (body["segment"], body["value"], body["period"]) == ("overall", "all", "month")
    rows = body["periods"]
    assert [r["period"] for r in rows] == list(BY_HAND)
    previous = None
    for row, (label, (p, pa, d)) in zip(rows, BY_HAND.items(), strict=True):
        assert row["period"] == label
        assert (row["promoters"], row["passives"], row["detractors"], row["responses"]) == (p, pa, d, p + pa + d)
        if p + pa + d == 0:
            assert row["nps"] is row["margin"] is row["low"] is row["high"] is row["change"] is None
            assert row["significant"] is None
            previous = None
            continue
        score = 100 * (p - d) / (p + pa + d)
        margin = margin_by_hand(p, pa, d)
        assert row["nps"] == pytest.approx(score, abs=1e-9)
        assert row["margin"] == pytest.approx(margin, abs=1e-9)
        assert (row["low"], row["high"]) == (pytest.approx(score - margin), pytest.approx(score + margin))
        if previous is None:
            assert row["change"] is None and row["significant"] is None
        else:
            change = score - previous[0]
            assert row["change"] == pytest.approx(change)
            assert row["significant"] == (abs(change) > 1.96 * (previous[1] ** 2 + (margin / 1.96) ** 2) ** 0.5)
        previous = (score, margin / 1.96)
    assert rows[0]["start"] == "2026-03-01" and rows[0]["end"] == "2026-03-31"
    assert rows[4]["significant"] is True  # June -62.5 to July +66.7


def test_nps_by_segment_week_and_quarter(seeded, context):
    _, body = nps(context, seeded, segment="touchpoint", value="support", period="quarter",
                  **{"from": "2026-01-01", "to": "2026-09-30"})  # fmt: skip
    assert [(r["period"], r["promoters"], r["passives"], r["detractors"]) for r in body["periods"]] == [
        ("2026-Q1", 3, 1, 1), ("2026-Q2", 4, 0, 8), ("2026-Q3", 3, 2, 3)]  # fmt: skip
    _, body = nps(context, seeded, period="week", **{"from": "2026-08-03", "to": "2026-08-16"})
    assert [(r["period"], r["responses"], r["start"]) for r in body["periods"]] == [
        ("2026-W32", 0, "2026-08-03"), ("2026-W33", 6, "2026-08-10")]  # fmt: skip
    _, body = nps(context, seeded, period="day", **{"from": "2026-08-10", "to": "2026-08-10"})
    assert body["periods"][0]["period"] == "2026-08-10" and body["periods"][0]["responses"] == 6


def test_the_account_segment_counts_the_responses_the_sync_linked_to_it(seeded, stack, context):
    from npsloop.stores.responses import ResponseStore, SyncedTo

    store = ResponseStore(stack.names.refs["ResponsesTable"], stack.client("dynamodb"))
    for rid in ("2026-03-support-0", "2026-03-support-4", "2026-04-onboarding-0"):  # 10 and 3 in March, 10 in April
        store.record_link(f"generic:{rid}", 1, SyncedTo(None, "001A", None))
    store.record_link("generic:2026-04-support-0", 1, SyncedTo(None, "001B", None))
    _, body = nps(context, seeded, segment="account", value="001A", period="quarter",
                  **{"from": "2026-01-01", "to": "2026-06-30"})  # fmt: skip
    assert [(r["period"], r["promoters"], r["passives"], r["detractors"]) for r in body["periods"]] == [
        ("2026-Q1", 1, 0, 1), ("2026-Q2", 1, 0, 0)]  # fmt: skip
    _, body = nps(context, seeded, segment="account", value="001A", period="month",
                  **{"from": "2026-04-01", "to": "2026-04-30"})  # fmt: skip
    assert body["periods"][0]["nps"] == 100.0 and body["periods"][0]["change"] == 100.0 - 0.0  # March: 0


REFUSED = [
    ({"period": "year"}, "period"), ({"segment": "planet", "value": "x"}, "segment"), ({"segment": "touchpoint"}, None),
    ({"from": "2026-09-01", "to": "2026-08-01"}, None), ({"period": "day", "from": "2020-01-01", "to": "2026-01-01"},
    "from"), ({"from": "yesterday"}, "from"),
]  # fmt: skip


def test_nps_refuses_what_it_cannot_answer_with_a_422_that_says_why_and_needs_a_key(seeded, context):
    for params, field in REFUSED:
        status, body = nps(context, seeded, **params)
        assert status == 422 and body["error"], params
        assert body.get("field") == field, params
    assert call(context, "GET", "/nps")["statusCode"] == 401


def csv_rows(result):
    return list(csv.DictReader(io.StringIO(result["body"])))


def test_export_filters_masks_emails_and_pages_with_a_cursor(seeded, context, monkeypatch):
    key = {"X-Api-Key": seeded}
    result = call(context, "GET", "/responses.csv", {"from": "2026-06-01", "to": "2026-06-30",
                                                     "category": "detractor"}, key)  # fmt: skip
    assert result["statusCode"] == 200 and result["headers"]["Content-Type"].startswith("text/csv")
    rows = csv_rows(result)
    assert len(rows) == 6 and {r["category"] for r in rows} == {"Detractor"}
    assert "email" not in rows[0] and "max@example.com" not in result["body"] and "m***@e***.com" in rows[0]["comment"]
    assert rows[0]["themes"] == "price;support" and rows[0]["sentiment"] == "unavailable"

    everything, cursor, pages = [], None, 0
    while True:
        params = {"from": "2026-01-01", "to": "2026-12-31", "segment": "touchpoint", "value": "support", "limit": "4"}
        result = call(context, "GET", "/responses.csv", {**params, **({"cursor": cursor} if cursor else {})}, key)
        everything += csv_rows(result)
        pages += 1
        cursor = result["headers"].get("X-Next-Cursor")
        if not cursor:
            break
    assert pages >= 6 and len(everything) == 25 == len({r["response_id"] for r in everything})
    assert [r["responded_at"] for r in everything] == sorted(r["responded_at"] for r in everything)

    asked = call(context, "GET", "/responses.csv", {"from": "2026-08-01", "to": "2026-08-31", "emails": "true"}, key)
    assert asked["statusCode"] == 422 and "EXPORT_EMAILS" in json.loads(asked["body"])["error"]
    monkeypatch.setenv("EXPORT_EMAILS", "true")
    from npsloop import config, wiring

    config.settings.cache_clear()
    wiring.reports.cache_clear()
    allowed = call(context, "GET", "/responses.csv", {"from": "2026-08-01", "to": "2026-08-31", "emails": "true"}, key)
    assert {r["email"] for r in csv_rows(allowed)} >= {"r0@support.example"}
    assert call(context, "GET", "/responses.csv", {"from": "2026-08-01"}, key)["statusCode"] == 422


def test_dashboard_takes_the_key_once_and_keeps_a_session_cookie(seeded, context, stack):
    page = call(context, "GET", "/dashboard")
    assert page["statusCode"] == 200 and 'name="key"' in page["body"] and "<svg" not in page["body"]
    assert call(context, "POST", "/dashboard", headers={"content-type": "application/x-www-form-urlencoded"},
                body=b"key=npl_wrong")["statusCode"] == 401  # fmt: skip
    login = call(context, "POST", "/dashboard", headers={"content-type": "application/x-www-form-urlencoded"},
                 body=f"key={seeded}".encode())  # fmt: skip
    assert login["statusCode"] == 303 and login["headers"]["Location"].startswith("/dashboard")
    (cookie,) = login["cookies"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and seeded not in cookie
    session = cookie.split(";")[0]
    once = call(context, "GET", "/dashboard", {"key": seeded, "period": "week"})
    assert once["statusCode"] == 303 and "key=" not in once["headers"]["Location"]

    page = call(context, "GET", "/dashboard", {"from": "2026-03-01", "to": "2026-08-31", "lang": "de"},
                cookies=[session])  # fmt: skip
    assert page["statusCode"] == 200 and page["headers"]["Content-Type"].startswith("text/html")
    html = page["body"]
    assert "<script" not in html and "Content-Security-Policy" in page["headers"]
    assert html.count('class="point') == 6 and html.count('class="point empty"') == 1 and 'class="band"' in html
    assert "Kritiker" in html and "m***@e***.com" in html and "max@example.com" not in html
    assert "r0@support.example" not in html

    ApiKeyStore(stack.names.refs["ApiKeysTable"], stack.client("dynamodb")).revoke(seeded)
    from npsloop import wiring

    wiring.reports.cache_clear()
    wiring.dashboard.cache_clear()
    assert 'name="key"' in call(context, "GET", "/dashboard", cookies=[session])["body"]
