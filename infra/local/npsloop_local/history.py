"""`npsloop replay` and `npsloop import`: re-ingest archived deliveries after a fix, and bring a survey tool's history
(Delighted's CSV export, or the documented generic CSV) in through the same pipeline, marked historical."""

from __future__ import annotations

import csv
import re
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from npsloop.config import MAX_BODY_BYTES
from npsloop.errors import NpsloopError
from npsloop.ingest import Outcome, process, record
from npsloop.mapping import MappingDocument, parse_mapping
from npsloop.models import CanonicalResponse
from npsloop.sources.base import canonical
from npsloop.stores.archive import ACCEPTED_PREFIX, ArchiveBucket, Archived, RawArchive
from npsloop.stores.fetch_queue import FetchQueue
from npsloop.stores.responses import ResponseStore
from npsloop_local.ops import Target

HISTORICAL_AFTER = timedelta(days=7)
IMPORT_THREADS = 8
READ_THREADS = 16


def writer(target: Target) -> ResponseStore:
    """The Responses table as the stack's ingest writes it: with its configured segments and theme taxonomy."""
    from npsloop_local.analytics import counting

    return ResponseStore(target.physical("ResponsesTable"), target.client("dynamodb"), counting(target))


@dataclass
class Ports:
    archive: RawArchive
    store: ResponseStore
    fetch_queue: FetchQueue
    mappings: Callable[[], MappingDocument]
    archived: ArchiveBucket | None = None  # where replay reads the deliveries `archive` wrote (import needs none)

    @classmethod
    def of(cls, target: Target) -> Ports:
        """The stores of the stack the target names, with that stack's field mapping."""
        ssm = target.client("ssm")
        parameter = target.physical("MappingParameter")
        document = parse_mapping(ssm.get_parameter(Name=parameter)["Parameter"]["Value"])
        return cls(
            RawArchive(target.physical("ArchiveStream"), firehose=target.client("firehose")),
            writer(target),
            FetchQueue(target.physical("FetchQueue"), target.client("sqs")),
            lambda: document,
            ArchiveBucket(target.physical("ArchiveBucket"), target.client("s3")),
        )


@dataclass
class Report:
    """What a replay or import did, counted by outcome; `problems` name row numbers or delivery ids, never content."""

    counts: Counter = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        body = outcome.body
        kind = ("duplicate" if body.get("duplicate") else "stale" if body.get("stale") else "ignored"
                if "ignored" in body else "queued" if "queued" in body else "recorded")  # fmt: skip
        self.counts[kind] += 1

    def lines(self) -> list[str]:
        done = ", ".join(f"{n} {kind}" for kind, n in sorted(self.counts.items())) or "nothing to do"
        return [done, *self.problems[:20], *([f"... and {len(self.problems) - 20} more"] if len(self.problems) > 20
                                              else [])]  # fmt: skip

    @property
    def failed(self) -> int:
        return self.counts["rejected"] + self.counts["failed"]


# --- replay ----------------------------------------------------------------------------------------------------------
def archived_deliveries(archive: ArchiveBucket, source: str | None, since: datetime | None, until: datetime | None,
                        rejected_only: bool) -> list[Archived]:  # fmt: skip
    """Accepted deliveries of one source (or all) received in [since, until), optionally only those whose latest
    mark says rejected. Every object under raw/ is read (16 at a time): Firehose names objects by delivery time."""
    with ThreadPoolExecutor(READ_THREADS) as pool:
        contents = archive.contents(ACCEPTED_PREFIX, pool.map)
        chosen = [d for d in contents.deliveries
                  if (not source or d.record.get("source") == source) and (not since or d.received_at >= since)
                  and (not until or d.received_at < until)]  # fmt: skip
        if not rejected_only:
            return chosen

        def rejected(d: Archived) -> bool:  # an object of its own from before Firehose was tagged, not marked
            status = contents.status(d.delivery_id)
            return status == "rejected" or (status is None and d.legacy and archive.tagged_rejected(d.key))

        return [d for d, hit in zip(chosen, pool.map(rejected, chosen), strict=True) if hit]


def replay(target: Target, *, source: str | None = None, rejected_only: bool = False, since: datetime | None = None,
           until: datetime | None = None, historical_after: timedelta = HISTORICAL_AFTER, now: datetime | None = None,
           progress: bool = True, ports: Ports | None = None) -> Report:  # fmt: skip
    """Re-ingest archived deliveries as live traffic is ingested (same parse, same idempotent record), skipping the
    signature check they passed when they arrived; those older than `historical_after` are marked historical.
    A delivery replayed without error gets a `replayed` mark, so a later `--rejected` replay leaves it alone."""
    ports = ports or Ports.of(target)
    now = now or datetime.now(UTC)
    report = Report()
    if ports.archived is None:
        raise ValueError("replay reads the archive bucket: Ports.archived is not set")
    for archived in tqdm(archived_deliveries(ports.archived, source, since, until, rejected_only), desc="replaying",
                         unit="delivery", disable=not progress):  # fmt: skip
        delivery = archived.delivery()
        try:
            outcome = process(delivery, archived.delivery_id, archive=ports.archive, store=ports.store,
                              max_body=MAX_BODY_BYTES, fetch_queue=ports.fetch_queue, mappings=ports.mappings,
                              historical=now - delivery.received_at > historical_after)  # fmt: skip
        except NpsloopError as exc:
            report.counts["rejected"] += 1
            report.problems.append(f"{archived.delivery_id}: {exc.status} {type(exc).__name__}")
            continue
        report.add(outcome)
        ports.archive.mark(archived.delivery_id, "replayed")
    return report


# --- import ----------------------------------------------------------------------------------------------------------
GENERIC_COLUMNS = ("response_id", "score", "email", "name", "comment", "contact_id", "account_id", "touchpoint",
                   "campaign", "locale", "responded_at", "updated_at")  # fmt: skip
# Delighted's export names its columns for people; these are the ones npsloop reads (case and spacing ignored),
# every other column (the person properties) is kept as an attribute.
DELIGHTED_COLUMNS = {
    "response_id": ("response id", "id", "response_id"),
    "score": ("score",),
    "comment": ("comment",),
    "email": ("email", "person email"),
    "name": ("name", "person name"),
    "responded_at": ("response timestamp", "created at", "created_at", "date", "responded at"),
    "updated_at": ("last updated timestamp", "updated at", "updated_at"),
    "contact_id": ("contact id", "contact_id", "salesforce contact id"),
    "account_id": ("account id", "account_id", "salesforce account id"),
    "touchpoint": ("touchpoint",),
    "campaign": ("campaign",),
    "locale": ("locale", "language"),
}
DELIGHTED_SKIPPED = ("notes", "permalink", "survey type")  # free text about a person, or links: not carried over
FORMATS = ("delighted", "generic")


def _norm(name: str) -> str:
    return re.sub(r"[\s_]+", " ", name.strip().lower())


def parse_time(value: str) -> datetime | None:
    """ISO 8601, "2026-01-31 10:00:00 -0800", "... UTC", or unix seconds; empty is None; else ValueError."""
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return datetime.fromtimestamp(int(value), UTC)
    value = re.sub(r"\s*UTC$", "+00:00", value)
    value = re.sub(r" ([+-]\d{2}):?(\d{2})$", r"\1:\2", value)
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _score(value: str) -> Any:
    value = (value or "").strip()
    return int(value) if re.fullmatch(r"\d{1,2}", value) else value


def row_to_response(row: dict[str, str], source: str) -> CanonicalResponse:
    """One CSV row as a canonical response; a row that does not fit raises an NpsloopError naming the column."""
    by_name = {_norm(k): (v or "") for k, v in row.items() if k is not None}
    if source == "generic":
        columns = {c: (c.replace("_", " "),) for c in GENERIC_COLUMNS}
        skipped: tuple[str, ...] = ()
    else:
        columns, skipped = DELIGHTED_COLUMNS, DELIGHTED_SKIPPED
    fields: dict[str, Any] = {}
    used: set[str] = set()
    for target, names in columns.items():
        name = next((n for n in names if n in by_name), None)
        if name is not None:
            fields[target] = by_name[name]
            used.add(name)
    vendor = (fields.pop("response_id", "") or "").strip()
    if not vendor:
        from npsloop.errors import MalformedPayloadError

        raise MalformedPayloadError("the response id column is empty or missing", field="response_id")
    for when in ("responded_at", "updated_at"):
        try:
            fields[when] = parse_time(fields.get(when) or "")
        except ValueError:
            from npsloop.errors import UnprocessableError

            raise UnprocessableError(f"{when}: not a date and time", field=when) from None
    attributes = {k: v for k, v in by_name.items() if k not in used and k not in skipped and v.strip()}
    fields["score"] = _score(fields.get("score", ""))
    return canonical({"response_id": f"{source}:{vendor}", "source": source, **fields, "attributes": attributes})


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        return list(csv.DictReader(handle))


def import_csv(target: Target, path: Path, source: str, *, progress: bool = True, threads: int = IMPORT_THREADS,
               ports: Ports | None = None, now: datetime | None = None) -> Report:  # fmt: skip
    """Record every row as a historical response (counted, synced, no alert or Task); bad rows are reported by
    line number and skipped. Importing the same file again changes nothing."""
    if source not in FORMATS:
        raise ValueError(f"--source must be one of {', '.join(FORMATS)}")
    ports = ports or Ports.of(target)
    rows = read_rows(path)
    now = now or datetime.now(UTC)
    report = Report()

    def one(numbered: tuple[int, dict[str, str]]) -> tuple[int, Outcome | NpsloopError]:
        line, row = numbered
        try:
            response = row_to_response(row, source)
            return line, record(response, response.responded_at or now, store=ports.store,
                                historical=True)  # fmt: skip
        except NpsloopError as exc:
            return line, exc

    with ThreadPoolExecutor(max_workers=threads) as pool, tqdm(
        total=len(rows), desc=f"importing {path.name}", unit="row", disable=not progress
    ) as bar:  # fmt: skip
        for line, result in pool.map(one, enumerate(rows, start=2)):  # line 1 is the header
            if isinstance(result, NpsloopError):
                report.counts["failed"] += 1
                report.problems.append(f"line {line}: {result.message}" + (f" ({result.field})" if result.field
                                                                          else ""))  # fmt: skip
            else:
                report.add(result)
            bar.update()
    return report
