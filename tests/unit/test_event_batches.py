"""Facts about many responses go out as few EventBridge entries, and consumers unpack them one response at a time."""

import json

from npsloop.envelopes import sqs_details
from npsloop.models import ScoredEvent
from npsloop.stores.bus import CALL_BYTES, ENTRIES_PER_CALL, ENTRY_BYTES, ENTRY_RESPONSES, EventBus


class Events:
    def __init__(self):
        self.calls = []

    def put_events(self, Entries):  # noqa: N803 (boto3's name)
        self.calls.append(Entries)
        return {"FailedEntryCount": 0, "Entries": [{"EventId": "x"} for _ in Entries]}


def detail(n, comment_bytes=0):
    return {"revision": 1, "received_at": "2026-11-22T10:00:00Z", "category": "Promoter",
            "response": {"response_id": f"generic:{n}", "source": "generic", "score": 9,
                         "comment": "x" * comment_bytes}}  # fmt: skip


def test_a_batch_fills_entries_up_to_one_billing_chunk_and_calls_up_to_their_limits():
    events = Events()
    details = [detail(n, comment_bytes=900) for n in range(1000)]
    EventBus("bus", events).publish_batched("ResponseScored", details)
    entries = [e for call in events.calls for e in call]
    unpacked = [d for e in entries for d in json.loads(e["Detail"])["responses"]]
    assert unpacked == details  # all of them, in order, once
    assert all(len(e["Detail"]) <= ENTRY_BYTES for e in entries)
    for entry, following in zip(entries, entries[1:], strict=False):  # each entry is as full as the next allows
        first = json.dumps(json.loads(following["Detail"])["responses"][0])
        held = len(json.loads(entry["Detail"])["responses"])
        assert len(entry["Detail"]) + 2 + len(first) > ENTRY_BYTES or held == ENTRY_RESPONSES
    assert len(entries) < len(details) / 30
    assert all(len(call) <= ENTRIES_PER_CALL and sum(len(e["Detail"]) for e in call) <= CALL_BYTES
               for call in events.calls)  # fmt: skip
    assert {e["DetailType"] for e in entries} == {"ResponseScored"}


def test_small_details_go_forty_to_an_entry_so_five_messages_make_one_sync_batch():
    from npsloop.salesforce.sync import COLLECTION_SIZE

    events = Events()
    EventBus("bus", events).publish_batched("ResponseScored", [detail(n) for n in range(100)])
    assert [len(json.loads(e["Detail"])["responses"]) for call in events.calls for e in call] == [40, 40, 20]
    assert 5 * ENTRY_RESPONSES == COLLECTION_SIZE


def test_a_detail_larger_than_a_chunk_goes_alone_and_nothing_is_published_for_nothing():
    events = Events()
    EventBus("bus", events).publish_batched("ResponseScored", [detail(1), detail(2, comment_bytes=70_000), detail(3)])
    sizes = [len(json.loads(e["Detail"])["responses"]) for call in events.calls for e in call]
    assert sizes == [1, 1, 1]
    EventBus("bus", events := Events()).publish_batched("ResponseScored", [])
    assert events.calls == []


def test_consumers_get_one_item_per_response_and_a_dead_letter_body_of_one_response():
    batched = {"detail-type": "ResponseScored", "source": "npsloop",
               "detail": {"version": "1", "responses": [detail(1), detail(2)]}}  # fmt: skip
    single = {"detail-type": "ResponseScored", "source": "npsloop", "detail": detail(3)}
    records = [{"messageId": "m1", "body": json.dumps(batched)}, {"messageId": "m2", "body": json.dumps(single)},
               {"messageId": "m3", "body": json.dumps({**batched, "detail": {"responses": [{"revision": 0}]}})}]
    queued, poison = sqs_details({"Records": records}, ScoredEvent)
    assert [(q.message_id, q.detail.response.response_id) for q in queued] == [
        ("m1", "generic:1"), ("m1", "generic:2"), ("m2", "generic:3")]  # fmt: skip
    assert poison == ["m3"]  # a batch that does not read is left whole for the DLQ
    letter = json.loads(queued[1].body)
    assert letter["detail"]["response"]["response_id"] == "generic:2" and letter["detail-type"] == "ResponseScored"
    assert queued[2].body == records[1]["body"]


def test_the_sync_takes_a_big_delivery_in_chunks_of_whole_messages_of_at_most_a_collection():
    from npsloop.salesforce.service import _chunks
    from npsloop.salesforce.sync import COLLECTION_SIZE

    records = [{"messageId": f"m{m}", "body": json.dumps({"detail-type": "ResponseScored", "detail": {
        "responses": [detail(f"{m}-{n}") for n in range(30)]}})} for m in range(20)]  # fmt: skip
    queued, _ = sqs_details({"Records": records}, ScoredEvent)
    chunks = _chunks(queued)
    assert [q for chunk in chunks for q in chunk] == queued
    assert all(len(chunk) <= COLLECTION_SIZE for chunk in chunks) and len(chunks) == 4  # 6 + 6 + 6 + 2 messages
    assert all(len({q.message_id for q in chunk} & {q.message_id for q in other}) == 0
               for chunk in chunks for other in chunks if other is not chunk)  # fmt: skip
