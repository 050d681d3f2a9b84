"""POST /surveys/send behind an API key: check each recipient and queue its invitation."""

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response

from npsloop import wiring
from npsloop.envelopes import delivery_from_http
from npsloop.http import api_key_required, install_error_handlers, json_response
from npsloop.surveys.send import send

app = APIGatewayHttpResolver()
install_error_handlers(app)
app.use(middlewares=[api_key_required(lambda: wiring.surveys_api()[1])])
logger = Logger(service="npsloop")


@app.post("/surveys/send")
def send_surveys() -> Response:
    _, _, config, ports = wiring.surveys_api()
    body = delivery_from_http(app.current_event.raw_event, "surveys").body
    return json_response(200, {"results": send(body, config, ports)})


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
