"""Bulk API 2.0 ingest jobs of the stand-in: create, upload CSV, close (processed at once), results as CSV."""

import csv
import io
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from .errors import ApiError, item_error, not_found
from .ids import DEFAULT_USER_ID, make_id
from .operations import SaveResult, Writer
from .schema import NAME_PATTERN, SYSTEM_FIELDS, canonical_name, lookup
from .store import timestamp

DELIMITERS = {"COMMA": ",", "TAB": "\t", "PIPE": "|", "SEMICOLON": ";", "CARET": "^", "BACKQUOTE": "`"}
OPERATIONS = ("insert", "update", "upsert")
OPTIONS = tuple(DELIMITERS)


@dataclass
class Job:
    id: str
    sobject: str
    operation: str
    external_id_field: str | None
    line_ending: str
    column_delimiter: str
    api_version: float
    created: str
    state: str = "Open"
    modstamp: str = ""
    data: bytes | None = None
    error_message: str | None = None
    header: list[str] = field(default_factory=list)
    successes: list[list[str]] = field(default_factory=list)
    failures: list[list[str]] = field(default_factory=list)

    def info(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id,
            "operation": self.operation,
            "object": self.sobject,
            "createdById": DEFAULT_USER_ID,
            "createdDate": self.created,
            "systemModstamp": self.modstamp or self.created,
            "state": self.state,
        }
        if self.external_id_field:
            out["externalIdFieldName"] = self.external_id_field
        out.update(
            concurrencyMode="Parallel",
            contentType="CSV",
            apiVersion=self.api_version,
            jobType="V2Ingest",
            contentUrl=f"services/data/v{self.api_version:.1f}/jobs/ingest/{self.id}/batches",
            lineEnding=self.line_ending,
            columnDelimiter=self.column_delimiter,
            numberRecordsProcessed=len(self.successes) + len(self.failures),
            numberRecordsFailed=len(self.failures),
            retries=0,
            totalProcessingTime=0,
            apiActiveProcessingTime=0,
            apexProcessingTime=0,
        )
        if self.error_message:
            out["errorMessage"] = self.error_message
        return out


def _invalid(message: str, status: int = 400) -> ApiError:
    return ApiError(status, "INVALIDJOB", message)


class BulkJobs:
    def __init__(self, writer: Writer):
        self.writer = writer
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._count = 0

    def create(self, version: str, spec: Any) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise _invalid("The job definition must be a JSON object")
        sobject, operation = spec.get("object"), spec.get("operation")
        line_ending, delimiter = spec.get("lineEnding", "LF"), spec.get("columnDelimiter", "COMMA")
        if not isinstance(sobject, str) or not NAME_PATTERN.fullmatch(sobject):
            raise _invalid("InvalidJob : object is required")
        if operation not in OPERATIONS:
            raise _invalid(f"InvalidJob : operation must be one of {', '.join(OPERATIONS)}")
        if spec.get("contentType", "CSV") != "CSV" or line_ending not in ("LF", "CRLF") or delimiter not in OPTIONS:
            raise _invalid("InvalidJob : contentType must be CSV, lineEnding LF or CRLF, columnDelimiter a known one")
        ext_field = None
        if operation == "upsert":
            ext_field = self.writer.ext_field(sobject, str(spec.get("externalIdFieldName", "")))
            if ext_field is None:
                raise _invalid(f"InvalidJob : External ID field not found: {spec.get('externalIdFieldName')}")
        with self._lock:
            self._count += 1
            job_id = make_id("750", self._count)
            job = Job(
                job_id,
                canonical_name(sobject),
                operation,
                ext_field,
                line_ending,
                delimiter,
                float(version.lstrip("v")),
                timestamp(),
            )
            self._jobs[job_id] = job
        return job.info()

    def upload(self, job_id: str, data: bytes) -> None:
        with self._lock:
            job = self._job(job_id)
            if job.state != "Open" or job.data is not None:
                raise _invalid(f"InvalidJob : Job {job_id} is not open for data upload", 409)
            job.data = data

    def close(self, job_id: str, request: Any) -> dict[str, Any]:
        """UploadComplete processes the data before answering; the answer still shows UploadComplete."""
        state = request.get("state") if isinstance(request, dict) else None
        if state not in ("UploadComplete", "Aborted"):
            raise _invalid("InvalidJob : state must be UploadComplete or Aborted")
        with self._lock:
            job = self._job(job_id)
            if job.state != "Open":
                raise _invalid(f"InvalidJob : Job {job_id} is not Open", 409)
            job.state, job.modstamp = state, timestamp()
            info = job.info()
        if state == "UploadComplete":
            self._process(job)
        return info

    def info(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            return self._job(job_id).info()

    def results(self, job_id: str, which: str) -> str:
        """successfulResults or failedResults as Salesforce's CSV: quoted sf__ columns, then the original ones."""
        with self._lock:
            job = self._job(job_id)
        first = ["sf__Id", "sf__Created"] if which == "successfulResults" else ["sf__Id", "sf__Error"]
        out = io.StringIO()
        out.write(",".join(f'"{name}"' for name in first) + "," + ",".join(job.header) + "\n")
        csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(
            job.successes if which == "successfulResults" else job.failures
        )
        return out.getvalue()

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()

    def _job(self, job_id: str) -> Job:
        job = self._jobs.get(job_id)
        if job is None:
            raise not_found()
        return job

    def _process(self, job: Job) -> None:
        text = (job.data or b"").decode("utf-8-sig", errors="replace")
        try:
            rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=DELIMITERS[job.column_delimiter]))
        except csv.Error as error:
            return self._fail(job, [], f"InvalidBatch : Failed to parse CSV: {error}")
        known = lookup(job.sobject)
        header = rows[0] if rows else []
        unknown = [col for col in header if known and known.field(col) in (None, *SYSTEM_FIELDS[1:])]
        if not header or unknown:
            reason = f"Field name not found : {unknown[0]}" if unknown else "No data uploaded"
            return self._fail(job, header, f"InvalidBatch : {reason}")
        with self.writer.store.transaction():
            for row in rows[1:]:
                if row:
                    self._process_row(job, header, row)
        job.header = header
        job.state, job.modstamp = "JobComplete", timestamp()

    @staticmethod
    def _fail(job: Job, header: list[str], message: str) -> None:
        job.header, job.error_message = header, message
        job.state, job.modstamp = "Failed", timestamp()

    def _process_row(self, job: Job, header: list[str], row: list[str]) -> None:
        try:
            values = {
                column: _convert(job.sobject, column, cell) for column, cell in zip(header, row, strict=False) if cell
            }
        except _BadCell as bad:
            result = SaveResult(errors=[bad.error])
        else:
            if job.operation == "insert":
                result = self.writer.create_item({"attributes": {"type": job.sobject}, **values})
            elif job.operation == "update":
                result = self.writer.update_item({"attributes": {"type": job.sobject}, **values})
            else:
                result = self.writer.upsert_item(job.sobject, job.external_id_field or "", values)
        if result.success:
            job.successes.append([result.id or "", "true" if result.created else "false", *row])
        else:
            job.failures.append([result.id or "", _error_text(result.errors[0]), *row])


class _BadCell(Exception):
    def __init__(self, error: dict):
        super().__init__(error["message"])
        self.error = error


def _convert(sobject: str, column: str, cell: str) -> Any:
    """A CSV cell as the field's value: #N/A is null, number and checkbox fields get typed values."""
    known = lookup(sobject)
    name = known.field(column) if known else None
    if cell == "#N/A" or known is None or name not in (*known.numbers, *known.booleans):
        return None if cell == "#N/A" else cell
    if name in known.numbers and re.fullmatch(r"[+-]?(\d+\.?\d*|\.\d+)", cell):
        return float(cell) if "." in cell else int(cell)
    if name in known.booleans and cell.lower() in ("true", "false", "1", "0"):
        return cell.lower() in ("true", "1")
    raise _BadCell(item_error("INVALID_TYPE_ON_FIELD_IN_RECORD", f"{name}: value not of required type: {cell}", [name]))


def _error_text(error: dict) -> str:
    """sf__Error the way Bulk API 2.0 writes it: CODE:message:fields --"""
    fields = ",".join(error["fields"])
    return f"{error['statusCode']}:{error['message']}:{fields + ' ' if fields else ''}--"
