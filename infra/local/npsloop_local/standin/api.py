"""The stand-in's Salesforce REST resources: query, sObject rows, collections, composite and Bulk 2.0 ingest."""

import itertools
import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import composite, soql
from .bulk import BulkJobs
from .errors import ApiError, item_error, not_found
from .ids import make_id, to18
from .operations import ROLLED_BACK, SaveResult, Writer
from .schema import NAME_PATTERN, canonical_name, lookup
from .store import Record, Store

API_PATH = re.compile(r"/services/data/(v\d+\.\d+)(?:/(.*?))?/?")
COLLECTION_LIMIT = 200
BATCH_SIZES = (200, 2000)


@dataclass(frozen=True)
class Call:
    """One API request, received over HTTP or as a composite subrequest."""

    method: str
    version: str  # v62.0
    path: str  # below /services/data/vNN.N/, without slashes at the ends
    args: Mapping[str, str] = field(default_factory=dict)
    query_options: str = ""  # the Sforce-Query-Options header
    body: bytes = b""

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except (ValueError, RecursionError) as exc:
            raise ApiError(400, "JSON_PARSER_ERROR", f"Unable to parse the request body as JSON: {exc}") from None

    def json_object(self) -> dict[str, Any]:
        body = self.json()
        if not isinstance(body, dict):
            raise ApiError(400, "JSON_PARSER_ERROR", "Expected a JSON object as the request body")
        return body


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-able; a str is sent as CSV
    headers: dict[str, str] = field(default_factory=dict)


def error_reply(error: ApiError) -> Reply:
    return Reply(error.status, error.body())


class Api:
    def __init__(self, store: Store, writer: Writer, jobs: BulkJobs):
        self.store = store
        self.writer = writer
        self.jobs = jobs
        self._cursors: dict[str, tuple[list[dict], int]] = {}
        self._cursor_ids = itertools.count(1)
        self._lock = threading.Lock()
        sobject, record, ext = r"sobjects/(?P<sobject>\w+)", r"/(?P<record_id>[^/]+)", r"/(?P<field>\w+)/(?P<value>.+)"
        job = r"jobs/ingest/(?P<job_id>\w+)"
        routes: list[tuple[str, str, Callable[..., Reply], str]] = [
            ("GET", r"query", self.query, "query"),
            ("GET", r"query/(?P<locator>[^/]+)", self.query_more, "query_more"),
            ("POST", sobject, self.sobject_create, "sobject_create"),
            ("GET", sobject + record, self.sobject_get, "sobject_get"),
            ("PATCH", sobject + record, self.sobject_update, "sobject_update"),
            ("DELETE", sobject + record, self.sobject_delete, "sobject_delete"),
            ("PATCH", sobject + ext, self.sobject_upsert, "sobject_upsert"),
            ("POST", r"composite/sobjects", self.collections_create, "collections_create"),
            ("PATCH", r"composite/sobjects", self.collections_update, "collections_update"),
            ("DELETE", r"composite/sobjects", self.collections_delete, "collections_delete"),
            (
                "PATCH",
                r"composite/sobjects/(?P<sobject>\w+)/(?P<field>\w+)",
                self.collections_upsert,
                "collections_upsert",
            ),
            ("POST", r"composite", self.composite, "composite"),
            ("POST", r"jobs/ingest", self.bulk_create, "bulk"),
            ("GET", job, self.bulk_info, "bulk"),
            ("PATCH", job, self.bulk_close, "bulk"),
            ("PUT", job + "/batches", self.bulk_upload, "bulk"),
            ("GET", job + "/(?P<which>successfulResults|failedResults)", self.bulk_results, "bulk"),
        ]
        self._routes = [(method, re.compile(pattern), handler, kind) for method, pattern, handler, kind in routes]

    def dispatch(self, call: Call) -> tuple[Reply, str | None]:
        """The reply to a call and the kind of API call it counts as (None when no resource matched)."""
        allowed = []
        for method, pattern, handler, kind in self._routes:
            match = pattern.fullmatch(call.path)
            if match and method == call.method:
                try:
                    return handler(call, **match.groupdict()), kind
                except ApiError as error:
                    return error_reply(error), kind
            if match:
                allowed.append(method)
        if allowed:
            message = f"HTTP Method '{call.method}' not allowed. Allowed are {','.join(allowed)}"
            return Reply(405, [{"errorCode": "METHOD_NOT_ALLOWED", "message": message}]), None
        return error_reply(not_found()), None

    def reset(self) -> None:
        with self._lock:
            self._cursors.clear()
        self.jobs.clear()

    def record_body(self, record: Record, version: str) -> dict[str, Any]:
        """A record as GET sobjects/{type}/{id} returns it: attributes, then every field (known ones even if null)."""
        known = lookup(record.sobject)
        values = dict(record.fields)
        if known is not None:
            values = {"Id": record.id, **{name: record.fields.get(name) for name in known.fields}, **values}
        return {"attributes": {"type": record.sobject, "url": record_url(version, record.sobject, record.id)}, **values}

    # -- query

    def query(self, call: Call) -> Reply:
        text = call.args.get("q")
        if not text:
            raise ApiError(400, "MALFORMED_QUERY", "A query string has to be specified")
        try:
            query = soql.parse(text)
        except soql.SoqlError as error:
            raise ApiError(400, error.error_code, error.message) from None
        fetch = lru_cache(maxsize=None)(self._fetch)
        rows = soql.run(query, (record.fields for record in self.store.all(query.sobject)), fetch)
        if query.is_count:
            return Reply(200, {"totalSize": len(rows), "done": True, "records": []})

        def url(sobject: str, record_id: str) -> str:
            return record_url(call.version, sobject, record_id)

        records = [soql.shape(query, query.sobject, row, fetch, url) for row in rows]
        batch = self._batch_size(call, BATCH_SIZES[1])
        locator = None
        if len(records) > batch:
            with self._lock:
                locator = make_id("01g", next(self._cursor_ids))
                self._cursors[locator] = (records, batch)
        return self._page(call.version, locator, records, 0, batch)

    def query_more(self, call: Call, locator: str) -> Reply:
        cursor_id, _, offset = locator.rpartition("-")
        with self._lock:
            cursor = self._cursors.get(cursor_id)
        if cursor is None or not offset.isdigit():
            raise ApiError(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        records, batch = cursor
        return self._page(call.version, cursor_id, records, int(offset), self._batch_size(call, batch))

    def _page(self, version: str, locator: str | None, records: list[dict], offset: int, batch: int) -> Reply:
        end = offset + batch
        body: dict[str, Any] = {"totalSize": len(records), "done": end >= len(records)}
        if end < len(records):
            body["nextRecordsUrl"] = f"/services/data/{version}/query/{locator}-{end}"
        body["records"] = records[offset:end]
        return Reply(200, body)

    @staticmethod
    def _batch_size(call: Call, default: int) -> int:
        match = re.search(r"batchSize\s*=\s*(\d+)", call.query_options)
        return min(max(int(match.group(1)), BATCH_SIZES[0]), BATCH_SIZES[1]) if match else default

    def _fetch(self, record_id: str) -> tuple[str, dict[str, Any]] | None:
        record = self.store.get(record_id)
        return (record.sobject, record.fields) if record else None

    # -- sObject rows

    def sobject_create(self, call: Call, sobject: str) -> Reply:
        sobject = _writable(sobject)
        result = self.writer.create(sobject, call.json_object())
        if not result.success:
            return _save_errors(result)
        return Reply(201, result.body(), {"Location": record_url(call.version, sobject, result.id or "")})

    def sobject_get(self, call: Call, sobject: str, record_id: str) -> Reply:
        return Reply(200, self.record_body(self._record(sobject, record_id), call.version))

    def sobject_update(self, call: Call, sobject: str, record_id: str) -> Reply:
        record = self._record(sobject, record_id)
        result = self.writer.update(record.sobject, record.id, call.json_object())
        return Reply(204) if result.success else _save_errors(result)

    def sobject_delete(self, call: Call, sobject: str, record_id: str) -> Reply:
        self.store.delete(self._record(sobject, record_id).id)
        return Reply(204)

    def sobject_upsert(self, call: Call, sobject: str, field: str, value: str) -> Reply:
        sobject = _writable(sobject)
        ext_field = self.writer.ext_field(sobject, field)
        if ext_field is None:
            raise not_found()
        result = self.writer.upsert(sobject, ext_field, value, call.json_object())
        if result.matches:
            return Reply(300, [record_url(call.version, sobject, record_id) for record_id in result.matches])
        if not result.success:
            return _save_errors(result)
        headers = {"Location": record_url(call.version, sobject, result.id or "")} if result.created else {}
        return Reply(201 if result.created else 200, result.body(), headers)

    def _record(self, sobject: str, record_id: str) -> Record:
        normalised = to18(record_id)
        record = self.store.get(normalised) if normalised else None
        if record is None or record.sobject.lower() != sobject.lower():
            raise not_found()
        return record

    # -- sObject Collections

    def collections_create(self, call: Call) -> Reply:
        records, all_or_none = _collection(call)
        return Reply(200, self.writer.collection(records, all_or_none, self.writer.create_item))

    def collections_update(self, call: Call) -> Reply:
        records, all_or_none = _collection(call)
        return Reply(200, self.writer.collection(records, all_or_none, self.writer.update_item))

    def collections_delete(self, call: Call) -> Reply:
        """DELETE composite/sobjects?ids=a,b&allOrNone=false: one DeleteResult per id, in the order given."""
        ids = [i for i in call.args.get("ids", "").split(",") if i]
        if not ids:
            raise ApiError(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > COLLECTION_LIMIT:
            message = f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call"
            raise ApiError(400, "EXCEEDED_ID_LIMIT", message, [])
        all_or_none = call.args.get("allOrNone", "false").lower() == "true"
        with self.store.transaction() as tx:
            results = [self._delete_item(record_id) for record_id in ids]
            if all_or_none and not all(r["success"] for r in results):
                tx.rollback()
                results = [{**r, "success": False, "errors": [ROLLED_BACK]} if r["success"] else r for r in results]
        return Reply(200, results)

    def _delete_item(self, record_id: str) -> dict[str, Any]:
        normalised = to18(record_id)
        if normalised is None:
            return {"id": None, "success": False, "errors": [item_error("MALFORMED_ID", f"malformed id {record_id}")]}
        if not self.store.delete(normalised):
            error = item_error("ENTITY_IS_DELETED", "entity is deleted")
            return {"id": normalised, "success": False, "errors": [error]}
        return {"id": normalised, "success": True, "errors": []}

    def collections_upsert(self, call: Call, sobject: str, field: str) -> Reply:
        sobject = _writable(sobject)
        ext_field = self.writer.ext_field(sobject, field)
        if ext_field is None:
            message = f"Provided external ID field does not exist or is not accessible: {field}"
            raise ApiError(400, "INVALID_FIELD", message)
        records, all_or_none = _collection(call)

        def save(record: dict[str, Any]) -> SaveResult:
            return self.writer.upsert_item(sobject, ext_field, record)

        return Reply(200, self.writer.collection(records, all_or_none, save))

    # -- composite

    def composite(self, call: Call) -> Reply:
        """Run the subrequests in order, one transaction; allOrNone undoes all of them when one fails."""
        requests, all_or_none = composite.subrequests(call.json_object())
        results: dict[str, Any] = {}
        out: list[dict[str, Any]] = []
        with self.store.transaction() as tx:
            for sub in requests:
                reply = self._subrequest(call, sub, results)
                out.append(composite.item(sub["referenceId"], reply.status, reply.body, reply.headers))
                if reply.status < 300:
                    results[sub["referenceId"]] = reply.body
                if all_or_none and composite.failed(reply.status, reply.body):
                    tx.rollback()
                    break
        if tx.rolled_back:
            failed = len(out) - 1
            out = [out[i] if i == failed else composite.halted(sub["referenceId"]) for i, sub in enumerate(requests)]
        return Reply(200, {"compositeResponse": out})

    def _subrequest(self, call: Call, sub: dict[str, Any], results: dict[str, Any]) -> Reply:
        try:
            url = composite.resolve(sub["url"], results)
            body = composite.resolve(sub.get("body"), results)
        except composite.Unresolved as missing:
            return Reply(400, missing.body())
        parts = urlsplit(str(url))
        match = API_PATH.fullmatch(unquote(parts.path))
        path = (match.group(2) or "") if match else ""
        if not match or path == "composite" or path.startswith("jobs/"):
            return error_reply(not_found())
        extra = sub.get("httpHeaders") if isinstance(sub.get("httpHeaders"), dict) else {}
        options = next((str(v) for k, v in extra.items() if k.lower() == "sforce-query-options"), call.query_options)
        sub_call = Call(
            sub["method"].upper(),
            match.group(1),
            path,
            dict(parse_qsl(parts.query)),
            options,
            b"" if body is None else json.dumps(body).encode(),
        )
        return self.dispatch(sub_call)[0]

    # -- Bulk API 2.0 ingest

    def bulk_create(self, call: Call) -> Reply:
        return Reply(200, self.jobs.create(call.version, call.json()))

    def bulk_info(self, call: Call, job_id: str) -> Reply:
        return Reply(200, self.jobs.info(job_id))

    def bulk_close(self, call: Call, job_id: str) -> Reply:
        return Reply(200, self.jobs.close(job_id, call.json()))

    def bulk_upload(self, call: Call, job_id: str) -> Reply:
        self.jobs.upload(job_id, call.body)
        return Reply(201)

    def bulk_results(self, call: Call, job_id: str, which: str) -> Reply:
        return Reply(200, self.jobs.results(job_id, which))


def record_url(version: str, sobject: str, record_id: str) -> str:
    return f"/services/data/{version}/sobjects/{sobject}/{record_id}"


def _writable(sobject: str) -> str:
    if not NAME_PATTERN.fullmatch(sobject):
        raise not_found()
    return canonical_name(sobject)


def _collection(call: Call) -> tuple[list[dict[str, Any]], bool]:
    body = call.json_object()
    records, all_or_none = body.get("records"), body.get("allOrNone", False)
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise ApiError(400, "JSON_PARSER_ERROR", "records must be a list of sObjects")
    if not isinstance(all_or_none, bool):
        raise ApiError(400, "JSON_PARSER_ERROR", "allOrNone must be true or false")
    if len(records) > COLLECTION_LIMIT:
        message = f"record limit reached. cannot submit more than {COLLECTION_LIMIT} records into this call"
        raise ApiError(400, "EXCEEDED_ID_LIMIT", message, [])
    return records, all_or_none


def _save_errors(result: SaveResult) -> Reply:
    """A failed single-record write: HTTP 400 with the errors in the top-level shape (errorCode)."""
    errors = [{"message": e["message"], "errorCode": e["statusCode"], "fields": e["fields"]} for e in result.errors]
    return Reply(400, errors)
