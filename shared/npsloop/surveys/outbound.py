"""Salesforce Outbound Messages as survey triggers: `POST /salesforce/outbound/{touchpoint}` takes the SOAP
`notifications` a Workflow Rule or Flow sends (Case closed, Opportunity won ...) and queues one invitation per
Notification through the same checks as POST /surveys/send, then answers the `Ack` Salesforce waits for.

The recipient of a Notification is its sObject's `Email`, `ContactEmail` or `PersonEmail`, else the email of its
`ContactId` (one SOQL for all the message's ContactIds), else nobody: the Notification is acknowledged and logged
(ids only). Outbound Messages carry no signature: the message's OrganizationId must be the org configured in the
secret (`salesforce.organization_id`), as Salesforce's security considerations advise; TLS, and where the endpoint
allows it the Salesforce client certificate, are the deployment's part. Salesforce redelivers a Notification until it
is acknowledged (for 24 hours): its invitation keeps the survey id `sfom-<Notification Id>`, so a redelivery is
throttled by the cooldown and, even with no cooldown, mailed only once by send_survey.

The body is parsed with the standard library: expat (>= 2.4.1) limits entity expansion and ElementTree never loads
external entities; a DOCTYPE, which Salesforce never sends, is refused before parsing.
"""

from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET  # nosec B405 (untrusted XML is checked for a DOCTYPE first: see _parse_xml)
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from aws_lambda_powertools import Logger

from npsloop.errors import MalformedPayloadError, SignatureError
from npsloop.notify.config import NotifyConfig
from npsloop.salesforce.sync import salesforce_id
from npsloop.surveys import send
from npsloop.surveys.send import SendPorts

logger = Logger(child=True)

SOAP_NS = "http://schemas.xmlsoap.org/soap/envelope/"
OM_NS = "http://soap.sforce.com/2005/09/outbound"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
MAX_NOTIFICATIONS = 100  # the WSDL's maxOccurs
EMAIL_FIELDS = ("Email", "ContactEmail", "PersonEmail")
CONTENT_TYPE = "text/xml; charset=utf-8"
SURVEY_ID_PREFIX = "sfom-"
NOTIFICATION_ID = re.compile(r"^[A-Za-z0-9]{15,18}$")

# Verbatim the acknowledgement Salesforce expects (any other 200 body counts as a failure and is retried).
ACK = """<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">
\t<soapenv:Body>
\t\t<notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">
\t\t\t<Ack>true</Ack>
\t\t</notificationsResponse>
\t</soapenv:Body>
</soapenv:Envelope>
"""


@dataclass(frozen=True)
class Notification:
    id: str
    sobject: str  # the record's type: Case, Opportunity, Contact, Account ...
    fields: dict[str, str] = field(default_factory=dict)  # the fields the admin ticked, by API name (Id included)

    @property
    def record_id(self) -> str | None:
        return self.fields.get("Id")


@dataclass(frozen=True)
class OutboundMessage:
    organization_id: str
    action_id: str | None
    notifications: tuple[Notification, ...]


def fault(message: str, client: bool = True) -> str:
    """A SOAP 1.1 Fault saying what is wrong (`Client` when the message is at fault, `Server` otherwise)."""
    code = "soapenv:Client" if client else "soapenv:Server"
    return (f'<soapenv:Envelope xmlns:soapenv="{SOAP_NS}"><soapenv:Body><soapenv:Fault><faultcode>{code}</faultcode>'
            f"<faultstring>{html.escape(message)}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>\n")


def _parse_xml(body: bytes) -> ET.Element:
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPayloadError("the Outbound Message is not UTF-8 XML") from None
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        raise MalformedPayloadError("a DOCTYPE or entity declaration is not accepted in an Outbound Message")
    try:
        return ET.fromstring(text)  # noqa: S314  # nosec B314 (no DOCTYPE, so no entity can be declared: see above)
    except ET.ParseError as exc:
        raise MalformedPayloadError(f"the body is not well-formed XML ({exc})") from None


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(body: bytes) -> OutboundMessage:
    """The `notifications` of a SOAP 1.1 Outbound Message; MalformedPayloadError saying what is missing."""
    root = _parse_xml(body)
    envelope = f"{{{SOAP_NS}}}"
    if root.tag != f"{envelope}Envelope":
        raise MalformedPayloadError("not a SOAP 1.1 envelope: the root must be soapenv:Envelope")
    found = root.find(f"{envelope}Body/{{{OM_NS}}}notifications")
    if found is None:
        raise MalformedPayloadError(f"the SOAP Body holds no notifications element of {OM_NS}")
    org = (found.findtext(f"{{{OM_NS}}}OrganizationId") or "").strip()
    if not org:
        raise MalformedPayloadError("the notifications element has no OrganizationId")
    notifications = []
    for item in found.findall(f"{{{OM_NS}}}Notification"):
        nid = (item.findtext(f"{{{OM_NS}}}Id") or "").strip()
        sobject = item.find(f"{{{OM_NS}}}sObject")
        if not NOTIFICATION_ID.match(nid) or sobject is None:
            raise MalformedPayloadError("every Notification needs an Id (a Salesforce id) and an sObject")
        kind = _local(sobject.get(XSI_TYPE, "")).rsplit(":", 1)[-1]
        values = {_local(child.tag): (child.text or "").strip() for child in sobject}
        notifications.append(Notification(nid, kind, {k: v for k, v in values.items() if v}))
    if not notifications:
        raise MalformedPayloadError("the message holds no Notification")
    if len(notifications) > MAX_NOTIFICATIONS:
        raise MalformedPayloadError(f"at most {MAX_NOTIFICATIONS} Notifications per message, got {len(notifications)}")
    return OutboundMessage(org, found.findtext(f"{{{OM_NS}}}ActionId"), tuple(notifications))


def check_organization(message: OutboundMessage, expected: str | None) -> None:
    """The message must come from the configured org (15- or 18-character id, compared on the 15 that identify it)."""
    if not expected:
        raise SignatureError("Outbound Messages are refused: the npsloop secret has no salesforce.organization_id")
    if message.organization_id[:15] != expected.strip()[:15]:
        raise SignatureError("the OrganizationId is not the org this endpoint accepts Outbound Messages from")


def _contact_id(n: Notification) -> str | None:
    own = n.record_id if n.sobject == "Contact" else None
    return salesforce_id(own or n.fields.get("ContactId") or n.fields.get("PersonContactId"), "003")


def recipient(n: Notification, touchpoint: str, contacts: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    """The /surveys/send recipient for a Notification, or None when it names nobody to ask."""
    contact_id = _contact_id(n)
    contact = contacts.get(contact_id or "", {})
    email = next((n.fields[f] for f in EMAIL_FIELDS if n.fields.get(f)), None) or contact.get("Email")
    if not email:
        return None
    account_id = n.record_id if n.sobject == "Account" else n.fields.get("AccountId") or contact.get("AccountId")
    context = {"salesforce_object": n.sobject, "salesforce_record_id": n.record_id,
               "salesforce_notification_id": n.id}  # fmt: skip
    out = {"email": email, "name": n.fields.get("FirstName") or contact.get("FirstName"), "contact_id": contact_id,
           "account_id": account_id, "touchpoint": touchpoint,
           "context": {k: v for k, v in context.items() if v}}  # fmt: skip
    return {k: v for k, v in out.items() if v is not None}


def trigger(message: OutboundMessage, touchpoint: str, config: NotifyConfig, ports: SendPorts,
            now: datetime | None = None) -> dict[str, int]:  # fmt: skip
    """Queue an invitation per Notification that names someone; what happened, counted by status."""
    ids = sorted({cid for n in message.notifications if not _email_given(n) and (cid := _contact_id(n))})
    # a Salesforce that cannot be asked is a 503 fault: no Ack, so Salesforce sends the message again
    contacts = send.contacts("SELECT Id, Email, FirstName, AccountId FROM Contact", ids, ports,
                             "for the Contacts' email")  # fmt: skip
    given: list[dict[str, Any]] = []
    sources: list[Notification] = []
    no_recipient = 0
    for n in message.notifications:
        r = recipient(n, touchpoint, contacts)
        if r is None:
            no_recipient += 1
            logger.info("outbound notification has no recipient", extra={
                "notification_id": n.id, "sobject": n.sobject, "record_id": n.record_id,
                "contact_id": _contact_id(n), "org_configured": ports.salesforce is not None})  # fmt: skip
            continue
        given.append(r)
        sources.append(n)
    survey_ids: list[str | None] = [SURVEY_ID_PREFIX + n.id for n in sources]
    results = send.send_recipients(given, config, ports, now, survey_ids) if given else []
    for n, result in zip(sources, results, strict=True):
        if result["status"] != "queued":
            logger.info("outbound notification not queued", extra={
                "notification_id": n.id, "sobject": n.sobject, "record_id": n.record_id, "status": result["status"],
                "reason": result["reason"]})  # fmt: skip
    counts = {s: sum(r["status"] == s for r in results) for s in ("queued", "throttled", "opted_out", "invalid")}
    return counts | {"no_recipient": no_recipient}


def _email_given(n: Notification) -> bool:
    return any(n.fields.get(f) for f in EMAIL_FIELDS)
