"""/responses.csv: scored responses filtered by time, segment and category, as CSV pages with a cursor."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from datetime import date, datetime, time, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from npsloop.aggregation import OVERALL_VALUE, segment_values
from npsloop.analysis.service import UNAVAILABLE
from npsloop.errors import UnprocessableError
from npsloop.models import iso
from npsloop.reports import periods_between
from npsloop.stores.scored import ScoredResponses, ScoredRow

PAGE_ROWS = 5_000  # a page stays well under Lambda's 6 MB response limit
MAX_PAGE_ROWS = 10_000
COLUMNS = ["response_id", "source", "responded_at", "score", "category", "touchpoint", "campaign", "account_id",
           "locale", "themes", "sentiment", "comment"]  # fmt: skip
_EMAIL = re.compile(r"([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-])[A-Za-z0-9.-]*(\.[A-Za-z]{2,})")


def mask_emails(text: str | None) -> str:
    """Every email address in the text as a***@e***.com."""
    return _EMAIL.sub(lambda m: f"{m.group(1)}***@{m.group(2)}***{m.group(3)}", text or "")


class ExportQuery(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    first: date = Field(alias="from")
    last: date = Field(alias="to")
    segment: str = "overall"
    value: str | None = None
    category: str | None = None
    emails: bool = False
    limit: int = Field(PAGE_ROWS, ge=1, le=MAX_PAGE_ROWS)
    cursor: str | None = None

    @model_validator(mode="after")
    def _check(self) -> ExportQuery:
        if self.first > self.last:
            raise ValueError("from is after to")
        if self.category and self.category.capitalize() not in ("Promoter", "Passive", "Detractor"):
            raise ValueError("category must be promoter, passive or detractor")
        if self.segment != "overall" and not self.value:
            raise ValueError(f"value is required for segment {self.segment}")
        return self

    @classmethod
    def parse(cls, params: dict[str, Any], segments: tuple[str, ...], emails_allowed: bool) -> ExportQuery:
        try:
            query = cls.model_validate({k: v for k, v in params.items() if v not in (None, "")})
        except ValidationError as exc:
            error = exc.errors()[0]
            where = str(error["loc"][0]) if error["loc"] else None
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "missing":
                message = "is required (a date, YYYY-MM-DD)"
            raise UnprocessableError(f"{where + ': ' if where else ''}{message}", field=where) from None
        if query.segment not in segments:
            raise UnprocessableError(f"segment must be one of {', '.join(segments)}", field="segment")
        if query.emails and not emails_allowed:
            raise UnprocessableError("emails are not exported by this installation (EXPORT_EMAILS is off)",
                                     field="emails")  # fmt: skip
        return query

    def matches(self, row: ScoredRow) -> bool:
        if self.category and row.category != self.category.capitalize():
            return False
        if self.segment == "overall":
            return True
        wanted = OVERALL_VALUE if self.segment == "overall" else self.value
        return segment_values(row.response, (self.segment,)).get(self.segment) == wanted


def _cursor(month: str, start: dict | None) -> str:
    return base64.urlsafe_b64encode(json.dumps({"m": month, "k": start}).encode()).decode()


def _uncursor(cursor: str) -> tuple[str, dict | None]:
    try:
        found = json.loads(base64.urlsafe_b64decode(cursor.encode()))
        return str(found["m"]), found["k"]
    except (ValueError, KeyError, TypeError):
        raise UnprocessableError("cursor is not one this API gave out", field="cursor") from None


def export_page(store: ScoredResponses, query: ExportQuery) -> tuple[str, str | None]:
    """One CSV page (header included) and the cursor of the next page (None: this was the last).

    Reads the ByMonth index a DynamoDB page at a time and stops once `limit` rows are written, so a page costs
    what it holds (plus what the filters leave out), never the whole table.
    """
    months = [p.label for p in periods_between("month", query.first, query.last)]
    first_at = iso(datetime.combine(query.first, time.min))
    last_at = iso(datetime.combine(query.last + timedelta(days=1), time.min))[:-1]  # before midnight after `to`
    month, start = _uncursor(query.cursor) if query.cursor else (months[0], None)
    if month not in months:
        raise UnprocessableError("cursor does not belong to this date range", field="cursor")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS + (["email"] if query.emails else []))
    written = 0
    for index in range(months.index(month), len(months)):
        month = months[index]
        while True:
            rows, start = store.page(month, first_at, last_at, limit=min(1000, query.limit - written), start=start)
            for row in rows:
                if query.matches(row):
                    writer.writerow(_csv_row(row, query.emails))
                    written += 1
            if written >= query.limit:
                if start:
                    return out.getvalue(), _cursor(month, start)
                return out.getvalue(), (_cursor(months[index + 1], None) if index + 1 < len(months) else None)
            if not start:
                break
    return out.getvalue(), None


def _csv_row(row: ScoredRow, emails: bool) -> list[Any]:
    r = row.response
    cells = [r.response_id, r.source, row.period_at, r.score, row.category, r.touchpoint, r.campaign, r.account_id,
             r.locale, ";".join(row.themes), (row.sentiment or UNAVAILABLE).lower(),
             r.comment if emails else mask_emails(r.comment)]  # fmt: skip
    cells = [_no_formula(c) for c in cells]
    return cells + ([r.email or ""] if emails else [])


def _no_formula(cell: Any) -> Any:
    """Text a spreadsheet would run as a formula gets a leading apostrophe (CSV injection)."""
    if isinstance(cell, str) and cell[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + cell
    return "" if cell is None else cell
