"""API keys for the endpoints that need one: only a hash is stored; keys are checked on each request (cached)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from npsloop.aws import client

PREFIX = "npl_"
CACHE_SECONDS = 60  # a revoked key stops working within a minute on a warm container


def key_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    return PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class ApiKey:
    key_id: str  # the first 12 hex digits of the hash: safe to show, log and revoke by
    name: str
    created_at: str
    revoked: bool = False


class ApiKeyStore:
    def __init__(self, table: str, dynamodb: Any | None = None):
        self.table = table
        self._ddb = dynamodb
        self._cache: dict[str, tuple[float, ApiKey | None]] = {}

    @property
    def ddb(self) -> Any:
        return self._ddb or client("dynamodb")

    def add(self, key: str, name: str) -> ApiKey:
        """Store the hash of `key` (a new one from `new_key()`, or one provisioned for tests)."""
        digest = key_hash(key)
        record = ApiKey(digest[:12], name, datetime.now(UTC).isoformat())
        self.ddb.put_item(TableName=self.table, Item={
            "key_hash": {"S": digest}, "key_id": {"S": record.key_id}, "name": {"S": name},
            "created_at": {"S": record.created_at}, "revoked": {"BOOL": False}})  # fmt: skip
        return record

    def check(self, key: str | None) -> ApiKey | None:
        """The key's record when it is known and not revoked, else None."""
        if not key:
            return None
        digest = key_hash(key)
        cached = self._cache.get(digest)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        item = self.ddb.get_item(TableName=self.table, Key={"key_hash": {"S": digest}}).get("Item")
        record = _record(item) if item and not item.get("revoked", {}).get("BOOL") else None
        self._cache[digest] = (time.monotonic() + CACHE_SECONDS, record)
        return record

    def list(self) -> list[ApiKey]:
        pages = self.ddb.get_paginator("scan").paginate(TableName=self.table)
        return sorted((_record(i) for p in pages for i in p["Items"]), key=lambda k: k.created_at)

    def revoke(self, key_id: str) -> bool:
        """Revoke by key id (or by the full key); False when no such key exists."""
        wanted = key_hash(key_id)[:12] if key_id.startswith(PREFIX) else key_id
        for page in self.ddb.get_paginator("scan").paginate(TableName=self.table):
            for item in page["Items"]:
                if item["key_id"]["S"] == wanted:
                    self.ddb.update_item(
                        TableName=self.table,
                        Key={"key_hash": item["key_hash"]},
                        UpdateExpression="SET revoked = :t",
                        ExpressionAttributeValues={":t": {"BOOL": True}},
                    )
                    return True
        return False


def _record(item: dict[str, Any]) -> ApiKey:
    return ApiKey(
        item["key_id"]["S"], item["name"]["S"], item["created_at"]["S"], item.get("revoked", {}).get("BOOL", False)
    )
