"""The public HTTP API's OpenAPI document, generated from the code: template.yaml's routes, the registered sources
and the layer's models. `make openapi` writes it to openapi.json; a test fails when the checked-in file drifts."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

from npsloop.models import CanonicalResponse
from npsloop.sources import SOURCES, adapter
from npsloop_local.template import ROOT, Template

DOCUMENT = ROOT / "openapi.json"
ERROR_STATUSES = {
    "400": "The body is not what the source sends (malformed JSON, form or multipart).",
    "401": "The signature or token is missing, wrong or too old.",
    "404": "No such source.",
    "409": "The same response changed concurrently; send it again.",
    "413": "The body is over the size limit.",
    "415": "A content type the source cannot send.",
    "422": "A field cannot be used (`field` names it), e.g. an NPS answer that is not an integer 0-10.",
}
AUTH = {
    "typeform": "Typeform-Signature: sha256= + base64 HMAC-SHA256 of the body (signing_secret)",
    "surveymonkey": "Sm-Signature: base64 HMAC-SHA1 of the body, key api_key&api_secret",
    "qualtrics": "form field HMAC: hex HMAC-SHA512 of the MSG field (signing_secret = the subscription's sharedKey)",
    "survicate": "Hmac: hex HMAC-SHA256 of the body (signing_secret)",
    "formbricks": "Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature (signing_secret)",
    "tally": "Tally-Signature: base64 HMAC-SHA256 of the body (signing_secret)",
    "jotform": "X-Npsloop-Token header or ?token= (token)",
    "trustmary": "X-Npsloop-Token header or ?token= (token)",
    "zapier": "X-Npsloop-Token header or ?token= (token)",
    "generic": "Standard Webhooks headers webhook-id, webhook-timestamp, webhook-signature (signing_secret)",
    "email": "the body's token: an answer link's signed token (notify.token_key), as GET /r/{token} carries it",
}
# authenticated by the link's signed token, not by an API key
SIGNED_LINKS = ("/unsubscribe", "/unsubscribe/{token}", "/r/{token}")


def _generic_schema() -> dict[str, Any]:
    """npsloop's own JSON: the canonical response's fields, with `response_id` the sender's id and no `source`."""
    schema = CanonicalResponse.model_json_schema()
    schema["properties"].pop("source")
    schema["required"] = [r for r in schema.get("required", []) if r != "source"]
    schema["properties"]["response_id"]["description"] = "your id for the answer; npsloop's id is generic:<it>"
    schema["additionalProperties"] = True
    schema["title"] = "GenericResponse"
    schema["description"] = "The body of POST /webhooks/generic (other sources post their tool's own body)."
    return schema


def _object(properties: dict[str, Any], required: list[str] | None = None, title: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = required
    if title:
        out["title"] = title
    return out


def components() -> dict[str, Any]:
    text = {"type": "string"}
    return {"schemas": {
        "Error": _object({"error": text, "field": text}, ["error"], "Error"),
        "Recorded": _object({"response_id": text}, ["response_id"], "Recorded"),
        "Queued": _object({"queued": {**text, "description": "the response id, read from the tool's API soon"}},
                          ["queued"], "Queued"),
        "Ignored": _object({"ignored": {**text, "description": "why, e.g. 'no NPS answer'"}}, ["ignored"], "Ignored"),
        "Unchanged": _object({"duplicate": {"type": "boolean"}, "stale": {"type": "boolean"}, "response_id": text},
                             ["response_id"], "Unchanged"),
        "Handshake": _object({"source": text, "accepts": text}, ["source", "accepts"], "Handshake"),
        "GenericResponse": _generic_schema(),
    }}  # fmt: skip


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: str) -> dict[str, Any]:
    return {s: _json(_ref("Error"), ERROR_STATUSES[s]) for s in statuses}


def _source_parameter() -> dict[str, Any]:
    auth = "\n".join(f"- `{s}`: {AUTH.get(s, 'see README')}" for s in SOURCES)
    return {"name": "source", "in": "path", "required": True, "schema": {"type": "string", "enum": list(SOURCES)},
            "description": f"The survey tool, and how it authenticates:\n{auth}"}  # fmt: skip


def _content_types() -> list[str]:
    seen: list[str] = []
    for source in SOURCES:
        seen += [t for t in adapter(source).CONTENT_TYPES if t not in seen]
    return seen


def webhook_operation(method: str) -> dict[str, Any]:
    if method in ("get", "head"):
        return {
            "operationId": f"{method}Webhook",
            "summary": "Answer the check a tool makes when registering its webhook (SurveyMonkey HEAD, Qualtrics GET)",
            "parameters": [_source_parameter()],
            "responses": {"200": _json(_ref("Handshake"), "A known source."), **_errors("404")},
        }  # fmt: skip
    bodies = {t: {"schema": _ref("GenericResponse") if t == "application/json" else {"type": "object"}}
              for t in _content_types()}  # fmt: skip
    return {
        "operationId": "postWebhook",
        "summary": "A survey tool's delivery: archived, verified over the raw bytes, parsed and recorded",
        "parameters": [
            _source_parameter(),
            {"name": "token", "in": "query", "required": False, "schema": {"type": "string"},
             "description": "the per-source token of tools that cannot sign (jotform, trustmary, zapier)"},
        ],
        "requestBody": {"required": True, "content": bodies},
        "responses": {
            "200": _json(_ref("Unchanged"), "A duplicate or an older version: nothing changed."),
            "202": _json({"oneOf": [_ref("Recorded"), _ref("Queued"), _ref("Ignored")]},
                         "Recorded; or queued to be read from the tool's API; or archived and ignored."),
            **_errors("400", "401", "404", "409", "413", "415", "422"),
        },
    }  # fmt: skip


def other_operation(function: str, method: str, path: str) -> dict[str, Any]:
    """Routes of other functions: JSON answers and errors, keyed by X-Api-Key (DESIGN: API surface)."""
    name = re.sub(r"Function$", "", function)
    params = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
              for p in re.findall(r"\{(\w+)\+?\}", path)]  # fmt: skip
    if path in SIGNED_LINKS:
        return {"operationId": f"{method}{name}" + "".join(p["name"].title() for p in params), "parameters": params,
                "security": [], "responses": {"200": {"description": "An HTML page"},
                                              "403": {"description": "The link is not genuine (HTML)"}}}  # fmt: skip
    if path == "/salesforce/outbound/{touchpoint}":
        return outbound_operation(params)
    operation: dict[str, Any] = {
        "operationId": f"{method}{name}" + "".join(p["name"].title() for p in params),
        "parameters": params,
        "security": [{"ApiKey": []}],
        "responses": {"200": {"description": "OK"}, "401": _json(_ref("Error"), "An API key is required.")},
    }
    if path == "/surveys/send":
        from npsloop.surveys.links import Recipient
        from npsloop.surveys.send import MAX_RECIPIENTS

        recipients = {"type": "array", "items": Recipient.model_json_schema(), "minItems": 1,
                      "maxItems": MAX_RECIPIENTS}  # fmt: skip
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": _object({"recipients": recipients}, ["recipients"], "SurveySend")}}}  # fmt: skip
        operation["responses"]["422"] = _json(_ref("Error"), "recipients is missing, empty or over the limit.")
    return operation


def outbound_operation(params: list[dict[str, Any]]) -> dict[str, Any]:
    """A Salesforce Outbound Message: SOAP in, SOAP out, authenticated by the message's OrganizationId."""
    def soap(description: str) -> dict[str, Any]:
        return {"description": description, "content": {"text/xml": {"schema": {"type": "string"}}}}

    return {
        "operationId": "postSalesforceOutboundMessage",
        "summary": "A Salesforce Outbound Message (up to 100 Notifications): one survey invitation per recipient",
        "parameters": [{**params[0], "description": "the touchpoint of the invitations (e.g. support)"}],
        "security": [],
        "requestBody": {"required": True, "content": {"text/xml": {"schema": {
            "type": "string", "description": "SOAP 1.1 notifications of http://soap.sforce.com/2005/09/outbound"}}}},
        "responses": {
            "200": soap("notificationsResponse with Ack true: every Notification was queued, throttled or skipped"),
            "400": soap("A SOAP Fault: not an Outbound Message (the faultstring says what is wrong)"),
            "401": soap("A SOAP Fault: the OrganizationId is not the configured org (salesforce.organization_id)"),
            "503": soap("A SOAP Fault: Salesforce could not be asked for the Contacts; it sends the message again"),
        },
    }  # fmt: skip


def build(template: Template | None = None) -> dict[str, Any]:
    template = template or Template()
    paths: dict[str, dict[str, Any]] = {}
    for fn in template.functions():
        for route in fn.routes:
            method = route.method.lower()
            operation = (webhook_operation(method) if route.path == "/webhooks/{source}"
                         else other_operation(fn.logical_id, method, route.path))  # fmt: skip
            paths.setdefault(route.path, {})[method] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "npsloop", "version": "1",
                 "description": "NPS answers from survey tools into Salesforce. Generated by `make openapi`."},
        "paths": {p: dict(sorted(ops.items())) for p, ops in sorted(paths.items())},
        "components": {**components(), "securitySchemes": {
            "ApiKey": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}}},
    }  # fmt: skip


def render(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, sort_keys=False) + "\n"


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else DOCUMENT
    target.write_text(render(build()))
    print(f"wrote {target}")
