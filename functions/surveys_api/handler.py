"""POST /surveys/send behind an API key, and Salesforce Outbound Messages (POST /salesforce/outbound/{touchpoint},
checked by their OrganizationId): check each recipient and queue its invitation."""

from aws_lambda_powertools import Logger

from npsloop import wiring
from npsloop.envelopes import delivery_from_http
from npsloop.errors import NpsloopError
from npsloop.http import APIGatewayHttpResolver, Response, api_key_required, install_error_handlers, json_response
from npsloop.surveys import outbound
from npsloop.surveys.send import send

app = APIGatewayHttpResolver()
install_error_handlers(app)
logger = Logger(service="npsloop")


@app.post("/surveys/send", middlewares=[api_key_required(lambda: wiring.surveys_api()[1])])
def send_surveys() -> Response:
    _, _, config, ports, _ = wiring.surveys_api()
    body = delivery_from_http(app.current_event.raw_event, "surveys").body
    return json_response(200, {"results": send(body, config, ports)})


@app.post("/salesforce/outbound/<touchpoint>")
def outbound_message(touchpoint: str) -> Response:
    try:
        _, _, config, ports, organization_id = wiring.surveys_api()
        message = outbound.parse(delivery_from_http(app.current_event.raw_event, "salesforce").body)
        outbound.check_organization(message, organization_id)
        counts = outbound.trigger(message, touchpoint, config, ports)
    except NpsloopError as exc:  # Salesforce reads SOAP: the same status, as a Fault
        logger.warning("Outbound Message not acknowledged", extra={"status": exc.status, "problem": exc.message})
        return Response(exc.status, outbound.CONTENT_TYPE, outbound.fault(exc.message, client=exc.status < 500))
    logger.info("Outbound Message acknowledged", extra=counts)
    return Response(200, outbound.CONTENT_TYPE, outbound.ACK)


@logger.inject_lambda_context
def lambda_handler(event: dict, context: object) -> dict:
    return app.resolve(event, context)
