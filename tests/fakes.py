"""In-memory fakes of the layer's storage ports, with the same conditional semantics, for service tests at volume."""

import threading
from collections import Counter, defaultdict

from npsloop.aggregation import SEGMENTS
from npsloop.compute import Change
from npsloop.models import iso
from npsloop.stores.responses import Counting, StoredResponse, basis_attributes


class FakeResponseStore:
    """The Responses table and its stream: every stored revision becomes a Change with the old and new images."""

    def __init__(self, counting=None):
        self.items = {}
        self.images = {}
        self.stream = []
        self.counting = counting or Counting(SEGMENTS)
        self.lock = threading.Lock()

    def get(self, response_id):
        with self.lock:
            return self.items.get(response_id)

    def create(self, response, *, received_at, historical=False):
        refused = []
        return None if self.save(response, revision=1, received_at=received_at, historical=historical,
                                 refused=refused) else refused[0]  # fmt: skip

    def save(self, response, *, revision, received_at, historical=False, refused=None):
        with self.lock:
            current = self.items.get(response.response_id)
            if (current is None and revision != 1) or (current is not None and current.revision != revision - 1):
                if refused is not None:
                    refused.append(current)
                return False
            self.items[response.response_id] = StoredResponse(
                response, revision, response.content_hash(), iso(response.version_at(received_at)), iso(received_at),
                historical=historical)  # fmt: skip
            image = {"response_id": {"S": response.response_id}, "data": {"S": response.model_dump_json()},
                     "revision": {"N": str(revision)}, "received_at": {"S": iso(received_at)},
                     "historical": {"BOOL": historical},
                     **basis_attributes(self.counting.basis(response, received_at))}  # fmt: skip
            self.stream.append(Change(f"e{len(self.stream)}", str(len(self.stream)), self.images.get(
                response.response_id), image))  # fmt: skip
            self.images[response.response_id] = image
            return True

    def set_sentiment(self, found):
        list(found)


class FakeAggregateStore:
    """Counts and chunk markers, as AggregateStore.count moves them."""

    def __init__(self):
        self.counts = defaultdict(Counter)
        self.markers = {}

    def count(self, records, moves):
        if records[0] in self.markers:
            return self.markers[records[0]]
        self.markers[records[0]] = list(records)
        for key, counter in moves.items():
            self.counts[(key.pk, key.sk)].update(counter)
        return True

    def continue_marker(self, records):
        if records:
            self.markers[records[0]] = list(records)

    def get(self, pk, sk):
        return dict(self.counts[(pk, sk)])


class FakeBus:
    def __init__(self):
        self.facts = []
        self.lock = threading.Lock()

    def publish(self, facts):
        with self.lock:
            self.facts.extend(facts)

    def publish_batched(self, kind, details):
        self.publish([(kind, d) for d in details])
