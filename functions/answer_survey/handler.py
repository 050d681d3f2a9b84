"""GET /r/{token}?score=N (thank-you page; the click is held, then recorded unless a scanner made it), HEAD (the
same status, nothing noted) and POST /r/{token} (the comment form: recorded at once)."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import delivery_from_http
from npsloop.http import APIGatewayHttpResolver, Response, content_types, install_error_handlers
from npsloop.pages import PAGE_HEADERS
from npsloop.surveys import answer

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")


def _html(page: answer.Page) -> Response:
    return Response(status_code=page.status, content_type=content_types.TEXT_HTML, body=page.html,
                    headers=PAGE_HEADERS)  # fmt: skip


@app.route("/r/<token>", method=["GET", "HEAD"])
def show(token: str) -> Response:
    settings, ports = wiring.answer_survey()
    score = (app.current_event.query_string_parameters or {}).get("score")
    return _html(answer.show(token, score, wiring.secret(settings.secret_arn), ports,
                             count=app.current_event.request_context.http.method == "GET"))  # fmt: skip


@app.post("/r/<token>")
def post_comment(token: str) -> Response:
    settings, ports = wiring.answer_survey()
    form = delivery_from_http(app.current_event.raw_event, "email").body
    return _html(answer.comment(token, form, wiring.secret(settings.secret_arn), ports))


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
