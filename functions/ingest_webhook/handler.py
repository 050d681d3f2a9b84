"""/webhooks/{source}: a survey tool's POST is archived, verified, parsed and recorded; HEAD and GET answer the
checks tools make when a webhook is registered."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import delivery_from_http
from npsloop.http import APIGatewayHttpResolver, Response, install_error_handlers, json_response
from npsloop.ingest import handshake, receive

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")


@app.post("/webhooks/<source>")
def post_webhook(source: str) -> Response:
    settings, archive, store, fetch_queue = wiring.ingest()
    delivery = delivery_from_http(app.current_event.raw_event, source)
    outcome = receive(delivery, secret=wiring.secret(settings.secret_arn), archive=archive, store=store,
                      fetch_queue=fetch_queue, mappings=lambda: wiring.mapping(settings.mapping_parameter),
                      max_body=settings.max_body_bytes)  # fmt: skip
    return json_response(outcome.status, outcome.body)


@app.route("/webhooks/<source>", method=["HEAD", "GET"])
def check_webhook(source: str) -> Response:
    outcome = handshake(source)
    return json_response(outcome.status, outcome.body)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
