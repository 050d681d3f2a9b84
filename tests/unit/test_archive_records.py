"""The raw archive's object format: Firehose's batches of JSON lines, marks, and what erase keeps of an object."""

import base64
import json

from npsloop.stores.archive import ArchiveBucket, mentions, parse_object, without


def line(record):
    return json.dumps(record).encode() + b"\n"


def delivery(delivery_id, body, at="2026-11-01T10:00:00+00:00"):
    return {"delivery_id": delivery_id, "source": "generic", "received_at": at, "headers": {}, "query": {},
            "body_base64": base64.b64encode(body).decode()}  # fmt: skip


class Objects(ArchiveBucket):
    """The bucket's objects in memory: only reading is under test here (S3 itself in tests/integration)."""

    def __init__(self, objects):
        super().__init__("bucket")
        self.objects = objects

    def keys(self, prefix):
        return iter(sorted(k for k in self.objects if k.startswith(prefix)))

    def read(self, key):
        return self.objects[key]


def test_erase_keeps_the_other_lines_of_a_batched_object():
    ada = delivery("a", b'{"email": "ada%40example.com"}')  # form-encoded inside the base64 body
    cy = delivery("c", b'{"email": "cy@example.com"}')
    stored = line(ada) + line({"mark": "a", "status": "rejected", "at": "2026-11-01T10:00:01"}) + line(cy)
    assert mentions(stored, "ADA@example.com") and not mentions(line(cy), "ada@example.com")
    assert without(stored, "ada@example.com") == line({"mark": "a", "status": "rejected",
                                                       "at": "2026-11-01T10:00:01"}) + line(cy)  # fmt: skip
    assert without(line(ada), "ada@example.com") == b""


def test_contents_are_ordered_by_arrival_the_latest_mark_wins_and_old_objects_are_their_own_id():
    legacy = json.dumps({k: v for k, v in delivery("-", b"{}", "2026-10-01T00:00:00+00:00").items()
                         if k != "delivery_id"}).encode()  # one object per delivery, written before Firehose
    objects = {
        "raw/generic/2026/10/01/000000000000-x.json": legacy,
        "raw/2026/11/01/10/s-1-b": line(delivery("b", b"{}", "2026-11-01T10:00:02+00:00"))
        + line({"mark": "a", "status": "replayed", "at": "2026-11-02T00:00:00+00:00"}) + b"not a record\n",
        "raw/2026/11/01/10/s-1-a": line(delivery("a", b"{}")) + line(
            {"mark": "a", "status": "rejected", "http_status": 422, "at": "2026-11-01T10:00:01+00:00"}),
    }
    contents = Objects(objects).contents("raw/")
    assert [d.delivery_id for d in contents.deliveries] == ["raw/generic/2026/10/01/000000000000-x.json", "a", "b"]
    assert contents.status("a") == "replayed" and contents.status("b") is None
    assert [kind for kind, _ in parse_object("k", objects["raw/2026/11/01/10/s-1-b"])] == ["delivery", "mark"]
