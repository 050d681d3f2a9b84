"""GET /nps, GET /responses.csv, GET|POST /dashboard: NPS with margins, CSV export and the dashboard page."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.dashboard.service import Page, Request
from npsloop.export import ExportQuery, export_page
from npsloop.http import APIGatewayHttpResolver, Response, api_key_required, install_error_handlers, json_response
from npsloop.reports import NpsQuery, nps_report

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")
key_required = api_key_required(lambda: wiring.reports().keys)


def _params() -> dict[str, str]:
    return dict(app.current_event.query_string_parameters or {})


@app.get("/nps", middlewares=[key_required])
def get_nps() -> Response:
    r = wiring.reports()
    query = NpsQuery.parse(_params(), r.settings.segments, datetime.now(UTC).date())
    return json_response(200, nps_report(r.aggregates, query, r.accounts).as_json())


@app.get("/responses.csv", middlewares=[key_required])
def get_responses_csv() -> Response:
    r = wiring.reports()
    query = ExportQuery.parse(_params(), r.settings.segments, r.settings.export_emails)
    body, cursor = export_page(r.scored, query)
    headers = {"Content-Disposition": f'attachment; filename="responses-{query.first}-{query.last}.csv"'}
    if cursor:
        following = urlencode({**{k: v for k, v in _params().items() if k != "cursor"}, "cursor": cursor})
        headers |= {"X-Next-Cursor": cursor, "Link": f'</responses.csv?{following}>; rel="next"'}
    return Response(200, "text/csv; charset=utf-8", body, headers)


@app.get("/dashboard")
def get_dashboard() -> Response:
    return _page(wiring.dashboard().get(_request()))


@app.post("/dashboard")
def post_dashboard() -> Response:
    return _page(wiring.dashboard().post(_request()))


def _request() -> Request:
    event = app.current_event
    headers = {k.lower(): v for k, v in (event.headers or {}).items()}
    return Request(_params(), headers, list(event.cookies or []), event.decoded_body or "")


def _page(page: Page) -> Response:
    return Response(page.status, "text/html; charset=utf-8", page.html, page.headers, cookies=page.cookies)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
