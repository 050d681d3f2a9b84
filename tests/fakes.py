"""In-memory fakes of the layer's storage ports, with the same conditional semantics, for service tests at volume."""

import threading
from collections import Counter, defaultdict

from npsloop.models import iso
from npsloop.stores.responses import StoredResponse


class FakeResponseStore:
    def __init__(self):
        self.items = {}
        self.ledger_items = defaultdict(dict)
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
                published=False, historical=historical)  # fmt: skip
            return True

    def mark_published(self, response_id, revision):
        with self.lock:
            current = self.items[response_id]
            if current.revision == revision:
                self.items[response_id] = StoredResponse(**{**current.__dict__, "published": True})

    def revisions(self, response_ids):
        with self.lock:
            return {rid: self.items[rid].revision for rid in response_ids if rid in self.items}

    def ledgers(self, response_ids, ledger):
        return {rid: self.ledger_items[ledger][rid] for rid in response_ids if rid in self.ledger_items[ledger]}


class FakeAggregateStore:
    def __init__(self, responses):
        self.responses = responses
        self.counts = defaultdict(Counter)

    def apply(self, ledger, entries, moves):
        counted = self.responses.ledger_items[ledger]
        if any(counted.get(e.response_id, (0, None))[0] >= e.revision for e in entries):
            return False
        for e in entries:
            counted[e.response_id] = (e.revision, e.contribution)
        for key, counter in moves.items():
            self.counts[(key.pk, key.sk)].update(counter)
        return True

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
