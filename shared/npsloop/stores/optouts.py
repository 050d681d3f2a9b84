"""The opt-out list: addresses that get no more email from npsloop, keyed by a hash of the lower-cased address.

Each entry keeps why (`unsubscribed`, `bounce`, `complaint`, ...) and when. The address itself is never stored,
so the table holds no personal data in clear; look-ups hash the address the same way (`address_hash`).
Shared by every sender of email (promoter follow-ups here; survey invitations later).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import UTC, datetime

from npsloop.aws import TableStore


def address_hash(address: str) -> str:
    """SHA-256 of the trimmed, lower-cased address: the table's key, and safe to log."""
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


class OptOutStore(TableStore):
    def add(self, address: str, reason: str, *, at: datetime | None = None) -> None:
        """Opt the address out (again: the latest reason and time win)."""
        when = (at or datetime.now(UTC)).isoformat()
        item = {"address_hash": {"S": address_hash(address)}, "reason": {"S": reason}, "opted_out_at": {"S": when}}
        self.ddb.put_item(TableName=self.table, Item=item)

    def remove(self, address: str) -> None:
        """Opt back in (an explicit request from the person; never automatic)."""
        self.ddb.delete_item(TableName=self.table, Key={"address_hash": {"S": address_hash(address)}})

    def reason(self, address: str) -> str | None:
        item = self.ddb.get_item(TableName=self.table, Key={"address_hash": {"S": address_hash(address)}},
                                 ConsistentRead=True).get("Item")  # fmt: skip
        return item["reason"]["S"] if item else None

    def opted_out(self, addresses: Iterable[str]) -> set[str]:
        """The lower-cased addresses among `addresses` that are on the list (batched reads)."""
        by_hash = {address_hash(a): a.strip().lower() for a in addresses}
        items = self.batch_get([{"address_hash": {"S": h}} for h in by_hash], ProjectionExpression="address_hash")
        return {by_hash[i["address_hash"]["S"]] for i in items}
