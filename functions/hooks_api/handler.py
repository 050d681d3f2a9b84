"""Zapier's REST-hook endpoints, all behind an API key: POST /hooks, DELETE /hooks/{id}, GET /me, GET /responses."""

import json

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.errors import MalformedPayloadError
from npsloop.hooks import service
from npsloop.http import (
    API_KEY_HEADER,
    APIGatewayHttpResolver,
    Response,
    api_key_required,
    install_error_handlers,
    json_response,
)

app = APIGatewayHttpResolver()
install_error_handlers(app)
app.use(middlewares=[api_key_required(lambda: wiring.hooks_api()[1])])
logger = Logger(service="npsloop")


def _caller():  # the key the middleware accepted
    return wiring.hooks_api()[1].check((app.current_event.headers or {}).get(API_KEY_HEADER))


@app.post("/hooks")
def post_hook() -> Response:
    settings, _, hooks, _ = wiring.hooks_api()
    try:
        body = json.loads(app.current_event.body or "")
    except ValueError:
        raise MalformedPayloadError('the body must be JSON: {"target_url": "https://...", "event": "..."}') from None
    sub = service.subscribe(body, hooks, created_by=_caller().key_id,
                            allow_loopback=settings.allow_loopback_targets)  # fmt: skip
    return json_response(201, {"id": sub.id, "secret": sub.secret, "event": sub.event, "target_url": sub.target_url})


@app.delete("/hooks/<hook_id>")
def delete_hook(hook_id: str) -> Response:
    service.unsubscribe(hook_id, wiring.hooks_api()[2])
    return Response(status_code=204, body="")


@app.get("/me")
def me() -> Response:
    key = _caller()
    return json_response(200, {"key_id": key.key_id, "name": key.name, "label": f"npsloop ({key.name})"})


@app.get("/responses")
def responses() -> Response:
    query = app.current_event.query_string_parameters or {}
    limit = int(query["limit"]) if query.get("limit", "").isdigit() else 50
    items = service.recent(query.get("event"), wiring.hooks_api()[3], max(1, min(limit, 100)),
                           sample_when_empty=query.get("sample") in ("1", "true"))  # fmt: skip
    return json_response(200, items)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
