"""SQLite storage of the stand-in's records: one connection behind a lock, nestable transactions."""

import hashlib
import itertools
import json
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .ids import make_id
from .schema import NAME_PATTERN, key_prefix

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL UNIQUE,
    sobject TEXT NOT NULL COLLATE NOCASE,
    fields TEXT NOT NULL,
    created_at TEXT NOT NULL,
    modified_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS records_by_sobject ON records (sobject, seq);
"""


def timestamp() -> str:
    """Now, the way Salesforce writes datetimes: 2026-11-22T10:00:00.000+0000."""
    now = datetime.now(UTC)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}+0000"


def _fold(value: Any) -> str | None:
    return None if value is None else str(value).casefold()


@dataclass(frozen=True)
class Record:
    id: str
    sobject: str
    fields: dict[str, Any]  # with Id, CreatedDate, LastModifiedDate and SystemModstamp


class Transaction:
    """Handed out by Store.transaction(): call rollback() to undo everything written inside it."""

    def __init__(self) -> None:
        self.rolled_back = False

    def rollback(self) -> None:
        self.rolled_back = True


class Store:
    def __init__(self, path: str):
        self.lock = threading.RLock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.create_function("fold", 1, _fold, deterministic=True)
        self._db.executescript(_SCHEMA)
        self._seq = self._db.execute("SELECT COALESCE(MAX(seq), 0) FROM records").fetchone()[0]
        self._savepoints = itertools.count()
        self._indexed: set[str] = set()

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """Writes inside are kept only if the block ends normally and rollback() was not called; nests."""
        with self.lock:
            name = f"sp{next(self._savepoints)}"
            self._db.execute(f"SAVEPOINT {name}")
            tx = Transaction()
            try:
                yield tx
            except BaseException:
                tx.rollback()
                raise
            finally:
                if tx.rolled_back:
                    self._db.execute(f"ROLLBACK TO {name}")
                self._db.execute(f"RELEASE {name}")

    def insert(self, sobject: str, fields: dict[str, Any], record_id: str | None = None) -> str:
        with self.lock:
            self._seq += 1
            record_id = record_id or make_id(key_prefix(sobject), self._seq)
            now = timestamp()
            self._db.execute(
                "INSERT INTO records (id, seq, sobject, fields, created_at, modified_at) VALUES (?, ?, ?, ?, ?, ?)",
                (record_id, self._seq, sobject, json.dumps(fields), now, now),
            )
            return record_id

    def update(self, record_id: str, fields: dict[str, Any]) -> None:
        """Set these fields on an existing record (None clears a field)."""
        with self.lock:
            row = self._db.execute("SELECT fields FROM records WHERE id = ?", (record_id,)).fetchone()
            merged = {**json.loads(row[0]), **fields}
            self._db.execute(
                "UPDATE records SET fields = ?, modified_at = ? WHERE id = ?",
                (json.dumps(merged), timestamp(), record_id),
            )

    def delete(self, record_id: str) -> bool:
        with self.lock:
            return self._db.execute("DELETE FROM records WHERE id = ?", (record_id,)).rowcount > 0

    def get(self, record_id: str) -> Record | None:
        with self.lock:
            row = self._db.execute(
                "SELECT id, sobject, fields, created_at, modified_at FROM records WHERE id = ?", (record_id,)
            ).fetchone()
        return _record(row) if row else None

    def all(self, sobject: str) -> list[Record]:
        with self.lock:
            rows = self._db.execute(
                "SELECT id, sobject, fields, created_at, modified_at FROM records WHERE sobject = ? ORDER BY seq",
                (sobject,),
            ).fetchall()
        return [_record(row) for row in rows]

    def find(self, sobject: str, field: str, value: Any) -> list[str]:
        """Ids of the records of an sObject whose field equals value, compared as case-insensitive text.

        The field gets an index the first time it is looked up (an upsert's external id, as Salesforce indexes
        external id fields): without one, each upsert read every record of the table."""
        index, select = self.lookup(field)
        with self.lock:
            if field not in self._indexed:
                self._db.execute(index)
                self._indexed.add(field)
            rows = self._db.execute(select, (sobject, _fold(value))).fetchall()
        return [row[0] for row in rows]

    @staticmethod
    def lookup(field: str) -> tuple[str, str]:
        """The index on a field and the SELECT of `find` through it (INDEXED BY: SQLite would rather read every
        record of the sObject through records_by_sobject, which spares it sorting by seq)."""
        if not NAME_PATTERN.fullmatch(field):
            raise ValueError(f"not a field name: {field!r}")
        expression = f"fold(json_extract(fields, '$.\"{field}\"'))"  # a name: nothing to escape
        name = f"records_by_{field}_{hashlib.sha1(field.encode(), usedforsecurity=False).hexdigest()[:8]}"
        # the field matched NAME_PATTERN above: the SQL holds a checked name, values go as parameters
        return (f"CREATE INDEX IF NOT EXISTS {name} ON records (sobject, {expression})",
                f"SELECT id FROM records INDEXED BY {name} WHERE sobject = ? AND {expression} = ? "  # noqa: S608 # nosec B608
                "ORDER BY seq")

    def clear(self) -> None:
        with self.lock:
            self._db.execute("DELETE FROM records")


def _record(row: tuple) -> Record:
    record_id, sobject, fields, created, modified = row
    values = {"Id": record_id, **json.loads(fields), "CreatedDate": created}
    values.update(LastModifiedDate=modified, SystemModstamp=modified)
    return Record(record_id, sobject, values)
