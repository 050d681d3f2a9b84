"""/dashboard's work: take the API key once for a session cookie, read the report and latest comments, render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from html import escape
from urllib.parse import parse_qs, urlencode

from npsloop.analysis.themes import Taxonomy
from npsloop.apikeys import ApiKeyStore, key_hash
from npsloop.dashboard.i18n import language
from npsloop.dashboard.render import CSP, dashboard_page, login_page
from npsloop.errors import NpsloopError
from npsloop.export import ExportQuery
from npsloop.models import iso
from npsloop.reports import NpsQuery, nps_report, periods_between
from npsloop.sessions import Sessions
from npsloop.stores.aggregates import AggregateStore
from npsloop.stores.responses import AccountCounts
from npsloop.stores.scored import ScoredResponses, ScoredRow

LATEST_COMMENTS = 10
MAX_COMMENT_PAGES = 5  # the latest comments cost at most this many index pages, however many responses exist
COMMENT_PAGE_SIZE = 200


@dataclass
class Page:
    status: int
    html: str
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "X-Frame-Options": "DENY",
                        "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
                        **self.headers}  # fmt: skip


@dataclass
class Request:
    params: dict[str, str]
    headers: dict[str, str]
    cookies: list[str]
    body: str = ""

    @property
    def secure(self) -> bool:
        return self.headers.get("x-forwarded-proto", "").lower() == "https"


@dataclass
class Dashboard:
    aggregates: AggregateStore
    accounts: AccountCounts
    scored: ScoredResponses
    keys: ApiKeyStore
    sessions: Sessions
    taxonomy: Taxonomy
    segments: tuple[str, ...]
    sentiment_enabled: bool

    def get(self, request: Request, today: date | None = None) -> Page:
        lang = language(request.params.get("lang"), request.headers.get("accept-language"))
        if key := request.params.get("key"):  # the key once in the link: a session, then the same URL without it
            return self._login(key, lang, request, {k: v for k, v in request.params.items() if k != "key"})
        digest = self.sessions.key_hash(Sessions.from_cookies(request.cookies))
        if digest is None or self.keys.check_hash(digest) is None:  # the login form is the page asked for: 200
            return Page(200, login_page(lang))
        params = {k: v for k, v in request.params.items() if k != "lang"}
        try:
            query = NpsQuery.parse(params, self.segments, today or datetime.now(UTC).date())
        except NpsloopError as exc:
            return Page(exc.status, _error_page(exc.message, lang))
        report = nps_report(self.aggregates, query, self.accounts)
        comments = self.latest_detractor_comments(query)
        return Page(200, dashboard_page(report, comments, self.taxonomy, lang, self.segments, self.sentiment_enabled))

    def post(self, request: Request) -> Page:
        """The login form: a valid key gets a session cookie and a redirect to the dashboard."""
        lang = language(request.params.get("lang"), request.headers.get("accept-language"))
        key = (parse_qs(request.body).get("key") or [""])[0].strip()
        return self._login(key, lang, request, {"lang": lang})

    def _login(self, key: str, lang: str, request: Request, params: dict[str, str]) -> Page:
        if self.keys.check(key) is None:
            return Page(401, login_page(lang, failed=True))
        cookie = Sessions.set_cookie(self.sessions.issue(key_hash(key)), request.secure)
        location = "/dashboard" + (f"?{urlencode(params)}" if params else "")
        return Page(303, "", {"Location": location}, [cookie])

    def latest_detractor_comments(self, query: NpsQuery) -> list[ScoredRow]:
        """The newest detractor comments of the segment in the range, reading a bounded number of index pages."""
        assert query.first and query.last
        months = [p.label for p in periods_between("month", query.first, query.last)]
        first_at = iso(datetime.combine(query.first, time.min))
        last_at = iso(datetime.combine(query.last + timedelta(days=1), time.min))[:-1]
        match = ExportQuery.model_validate({"from": query.first, "to": query.last, "segment": query.segment,
                                            "value": query.value, "category": "detractor"})  # fmt: skip
        found: list[ScoredRow] = []
        pages = 0
        for month in reversed(months):
            start = None
            while pages < MAX_COMMENT_PAGES:
                rows, start = self.scored.page(month, first_at, last_at, newest_first=True, limit=COMMENT_PAGE_SIZE,
                                               start=start)  # fmt: skip
                pages += 1
                found.extend(r for r in rows if r.response.comment and match.matches(r))
                if len(found) >= LATEST_COMMENTS:
                    return found[:LATEST_COMMENTS]
                if not start:
                    break
        return found


def _error_page(message: str, lang: str) -> str:
    back = "Zurück zum Dashboard" if lang == "de" else "Back to the dashboard"
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><title>npsloop</title></head><body '
            f'style="font:15px system-ui,sans-serif;padding:24px"><p role="alert">{escape(message)}</p>'
            f'<p><a href="/dashboard?lang={lang}">{back}</a></p></body></html>')  # fmt: skip
