"""ingest_webhook in-process on moto: archive first, verify, parse, store idempotently, publish once."""

import json

import pytest
from ingest_webhook import handler as ingest

from npsloop_local.signing import typeform_signature

from .conftest import TYPEFORM_SECRET, generic_headers, webhook_event


def post(context, source, body: bytes, headers=None, **kw):
    result = ingest.lambda_handler(webhook_event(source, body, headers, **kw), context)
    return result["statusCode"], json.loads(result["body"])


def generic(context, payload, **kw):
    body = json.dumps(payload).encode()
    return post(context, "generic", body, generic_headers(body), **kw)


def test_generic_delivery_is_archived_and_stored_once(stack, context):
    status, body = generic(context, {"response_id": "r1", "score": 9, "email": "a@example.com"})
    assert (status, body) == (202, {"response_id": "generic:r1"})
    assert [k.split("/")[0] for k in stack.archive_keys()] == ["raw"]
    for _ in range(2):  # the same delivery again: one record, no second write
        status, body = generic(context, {"response_id": "r1", "score": 9, "email": "a@example.com"})
        assert (status, body) == (200, {"duplicate": True, "response_id": "generic:r1"})
    (detail,) = stack.recorded()
    assert detail["revision"] == 1 and detail["response"]["score"] == 9
    assert len(stack.archive_keys()) == 3  # every delivery is archived, duplicates too


def test_typeform_docs_example_is_accepted(stack, context, fixture_bytes):
    body = fixture_bytes("typeform/form_response_docs_example.json")
    status, answer = post(context, "typeform", body, {"Typeform-Signature": typeform_signature(TYPEFORM_SECRET, body)})
    assert (status, answer) == (202, {"response_id": "typeform:a3a12ec67a1365927098a606107fac15"})


def test_updates_replace_older_versions_and_stale_ones_are_refused(stack, context):
    base = {"response_id": "r2", "score": 3, "responded_at": "2026-08-01T10:00:00Z"}
    assert generic(context, {**base, "updated_at": "2026-08-01T11:00:00Z"})[0] == 202
    status, body = generic(context, {**base, "score": 8, "updated_at": "2026-08-01T12:00:00Z"})
    assert status == 202
    status, body = generic(context, {**base, "score": 0, "updated_at": "2026-08-01T11:30:00Z"})
    assert (status, body) == (200, {"stale": True, "response_id": "generic:r2"})
    assert [d["revision"] for d in stack.recorded()] == [1, 2]


def test_the_write_is_the_event_and_the_item_carries_what_it_counts_for(stack, context):
    payload = {"response_id": "r3", "score": 5, "touchpoint": "support", "comment": "Far too expensive",
               "responded_at": "2026-08-01T10:00:00Z"}  # fmt: skip
    assert generic(context, payload)[0] == 202
    assert generic(context, payload)[1]["duplicate"] is True
    assert len(stack.stream_event()["Records"]) == 1  # one write, so one stream record: no outbox, no publishing
    item = stack.client("dynamodb").get_item(TableName=stack.names.refs["ResponsesTable"],
                                             Key={"response_id": {"S": "generic:r3"}})["Item"]  # fmt: skip
    assert (item["score"]["N"], item["category"]["S"], item["period_month"]["S"]) == ("5", "Detractor", "2026-08")
    assert item["period_at"]["S"] == "2026-08-01T10:00:00Z"
    assert {k: v["S"] for k, v in item["segments"]["M"].items()} == {"overall": "all", "source": "generic",
                                                                     "touchpoint": "support"}  # fmt: skip
    assert [t["S"] for t in item["themes"]["L"]] == ["price"]
    assert "published" not in item


def test_a_writer_that_keeps_losing_the_race_gets_409_and_a_new_response_costs_one_write(stack, context, monkeypatch):
    from npsloop.stores.responses import ResponseStore

    writes = []
    real_save = ResponseStore.save
    monkeypatch.setattr(ResponseStore, "save", lambda self, *a, **kw: writes.append(kw["revision"]) or real_save(
        self, *a, **kw))  # fmt: skip
    monkeypatch.setattr(ResponseStore, "get", lambda self, rid: pytest.fail("a new response needs no read"))
    assert generic(context, {"response_id": "r4", "score": 5})[0] == 202
    assert writes == []  # the one conditional put of create, no read, no update

    def lose(self, response, *, revision, refused=None, **kw):  # another writer stores a newer revision each time
        won = real_save(self, response.model_copy(update={"comment": f"other {revision}"}), revision=revision, **kw)
        assert won
        return real_save(self, response, revision=revision, refused=refused, **kw)

    monkeypatch.setattr(ResponseStore, "save", lose)
    status, body = generic(context, {"response_id": "r4", "score": 6})
    assert status == 409 and "retry" in json.dumps(body)


@pytest.mark.parametrize(
    ("source", "body", "signed", "status", "says"),
    [
        ("generic", b"{not json", True, 400, "not valid JSON"),
        ("generic", b'{"response_id": "x", "score": 11}', True, 422, "score"),
        ("generic", b'{"response_id": "x", "score": 1, "pad": "' + b"a" * 270_000 + b'"}', True, 413, "limit"),
        ("generic", b'{"response_id": "x", "score": 1}', False, 401, "signature"),
        ("nosuchtool", b'{"response_id": "x", "score": 1}', True, 404, "unknown source"),
    ],
)
def test_bad_deliveries_get_a_clear_4xx_and_are_archived(stack, context, source, body, signed, status, says):
    headers = (
        generic_headers(body) if signed else {"webhook-id": "m", "webhook-timestamp": "1", "webhook-signature": "v1,x"}
    )
    got, answer = post(context, source, body, headers)
    assert got == status
    assert says in answer["error"]
    if status == 422:
        assert answer["field"] == "score"
    (delivery,) = stack.archived().deliveries  # a rejected mark is a small record of its own, not a delivery
    assert delivery.key.startswith("unauthenticated/" if status in (401, 404) else "raw/")
    assert delivery.delivery().body == body and delivery.record["source"] == source
    marked = {d: m["status"] for d, m in stack.archived().marks.items()}
    assert marked == ({delivery.delivery_id: "rejected"} if status in (400, 413, 422) else {})
    assert stack.recorded() == []


def test_form_encoded_body_arrives_base64_and_is_refused_cleanly(stack, context):
    body = b"response_id=x&score=5"
    status, answer = post(
        context, "generic", body, generic_headers(body), content_type="application/x-www-form-urlencoded"
    )
    assert status == 415 and "application/json" in answer["error"] and answer["field"] == "content-type"


def test_typeform_without_nps_answer_is_acknowledged_as_ignored(stack, context):
    body = json.dumps({"form_response": {"token": "t", "answers": []}}).encode()
    status, answer = post(context, "typeform", body, {"Typeform-Signature": typeform_signature(TYPEFORM_SECRET, body)})
    assert (status, answer) == (202, {"ignored": "no NPS answer"})
    assert stack.recorded() == []


def test_a_body_too_large_for_one_firehose_record_is_refused_413_and_archived_truncated(stack, context):
    from npsloop.stores.archive import BODY_KEPT

    body = b'{"response_id": "huge", "score": 1, "pad": "' + b"x" * 3_000_000 + b'"}'  # over Firehose's 1,000 KiB
    status, answer = post(context, "generic", body, generic_headers(body))
    assert status == 413 and "limit" in answer["error"]
    (delivery,) = stack.archived().deliveries
    assert delivery.record["body_truncated_from"] == len(body) and delivery.delivery().body == body[:BODY_KEPT]

