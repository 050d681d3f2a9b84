"""GET /unsubscribe/{token} shows a confirm button, POST /unsubscribe/{token} opts the address in the signed link out
(/unsubscribe?token= serves the links sent before the path form)."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.http import APIGatewayHttpResolver, Response, content_types, install_error_handlers
from npsloop.pages import PAGE_HEADERS
from npsloop.unsubscribe import page

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")


def _answer(confirm: bool, token: str | None = None) -> Response:
    settings, optouts = wiring.unsubscribe()
    key = wiring.secret(settings.secret_arn).notify.token_key or ""
    token = token or (app.current_event.query_string_parameters or {}).get("token")
    status, html = page(token, key, confirm=confirm, optouts=optouts)
    return Response(status_code=status, content_type=content_types.TEXT_HTML, body=html, headers=PAGE_HEADERS)


@app.get("/unsubscribe")
def show() -> Response:
    return _answer(confirm=False)


@app.post("/unsubscribe")
def confirm() -> Response:
    return _answer(confirm=True)


@app.get("/unsubscribe/<token>")
def show_path(token: str) -> Response:
    return _answer(confirm=False, token=token)


@app.post("/unsubscribe/<token>")
def confirm_path(token: str) -> Response:
    return _answer(confirm=True, token=token)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
