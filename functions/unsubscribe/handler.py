"""GET /unsubscribe shows a confirm button, POST /unsubscribe opts the address in the signed link out."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types

from npsloop import wiring
from npsloop.http import install_error_handlers
from npsloop.pages import PAGE_HEADERS
from npsloop.unsubscribe import page

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")


def _answer(confirm: bool) -> Response:
    settings, optouts = wiring.unsubscribe()
    key = wiring.secret(settings.secret_arn).notify.token_key or ""
    token = (app.current_event.query_string_parameters or {}).get("token")
    status, html = page(token, key, confirm=confirm, optouts=optouts)
    return Response(status_code=status, content_type=content_types.TEXT_HTML, body=html, headers=PAGE_HEADERS)


@app.get("/unsubscribe")
def show() -> Response:
    return _answer(confirm=False)


@app.post("/unsubscribe")
def confirm() -> Response:
    return _answer(confirm=True)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
