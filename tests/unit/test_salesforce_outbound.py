"""Salesforce Outbound Messages: the SOAP parsed from Salesforce's own example, the Ack byte for byte, the recipient
of each Notification, and every malformed or foreign message refused with a reason."""

from pathlib import Path

import pytest

from npsloop.errors import MalformedPayloadError, SignatureError
from npsloop.surveys import outbound

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"
EXAMPLE = (FIXTURES / "outbound_message_account_example.xml").read_bytes()
ORG = "ABC90000000gNcmEAE"


def message(*sobjects: str, org: str = ORG) -> bytes:
    """The example's envelope around Notifications of our own: (xsi type, inner sf: fields) as XML text."""
    notifications = "".join(
        f'<Notification><Id>04l9000001ol{i:04d}AE</Id><sObject xmlns:sf="urn:sobject.enterprise.soap.sforce.com" '
        f'xsi:type="sf:{kind}">{fields}</sObject></Notification>'
        for i, (kind, fields) in enumerate(sobjects)
    )
    head, rest = EXAMPLE.decode().split("<Notification>", 1)
    tail = rest.split("</Notification>", 1)[1]
    return (head.replace(ORG, org) + notifications + tail).encode()


def test_the_salesforce_example_parses_to_its_org_and_one_account_notification():
    parsed = outbound.parse(EXAMPLE)
    assert parsed.organization_id == ORG and parsed.action_id == "00190000000PGrlAAG"
    [n] = parsed.notifications
    assert (n.id, n.sobject, n.record_id) == ("04l9000001olR84AAE", "Account", "0019000001KwyWtAAJ")
    assert n.fields["Name"] == "Salesforce.com Inc." and n.fields["BillingCity"] == "San Francisco"


def test_the_ack_is_the_document_salesforce_expects_byte_for_byte():
    assert outbound.ACK.encode() == (FIXTURES / "outbound_message_ack_response.xml").read_bytes()


def test_an_account_without_email_names_nobody_and_contact_fields_name_the_recipient():
    [account] = outbound.parse(EXAMPLE).notifications
    assert outbound.recipient(account, "support", {}) is None
    case, contact, person = outbound.parse(message(
        ("Case", "<sf:Id>5009000000AbcdeAAA</sf:Id><sf:ContactEmail>ada@example.com</sf:ContactEmail>"
                 "<sf:AccountId>0019000001KwyWtAAJ</sf:AccountId>"),
        ("Contact", "<sf:Id>0039000000AbcdeAAA</sf:Id><sf:Email>bo@example.com</sf:Email>"
                    "<sf:FirstName>Bo</sf:FirstName>"),
        ("Account", "<sf:Id>0019000000PersnAAA</sf:Id><sf:PersonEmail>pia@example.com</sf:PersonEmail>"),
    )).notifications  # fmt: skip
    assert outbound.recipient(case, "support", {}) == {
        "email": "ada@example.com", "account_id": "0019000001KwyWtAAJ", "touchpoint": "support",
        "context": {"salesforce_object": "Case", "salesforce_record_id": "5009000000AbcdeAAA",
                    "salesforce_notification_id": "04l9000001ol0000AE"}}  # fmt: skip
    assert outbound.recipient(contact, "t", {}) | {"context": None} == {
        "email": "bo@example.com", "name": "Bo", "contact_id": "0039000000Abcde", "touchpoint": "t", "context": None}
    assert outbound.recipient(person, "t", {})["account_id"] == "0019000000PersnAAA"


def test_a_contact_id_is_looked_up_and_its_email_and_account_used():
    [case] = outbound.parse(message(("Case", "<sf:Id>5009000000AbcdeAAA</sf:Id>"
                                             "<sf:ContactId>0039000000AbcdeAAA</sf:ContactId>"))).notifications
    assert outbound.recipient(case, "support", {}) is None  # the Contact was not found
    found = {"0039000000Abcde": {"Id": "0039000000AbcdeAAA", "Email": "cy@example.com", "AccountId": "001A"}}
    r = outbound.recipient(case, "support", found)
    assert (r["email"], r["contact_id"], r["account_id"]) == ("cy@example.com", "0039000000Abcde", "001A")


@pytest.mark.parametrize("body, says", [
    (b"not xml", "not well-formed XML"),
    (b"\xff\xfe<x/>", "not UTF-8"),
    (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]><a>&lol2;</a>',
     "DOCTYPE"),
    (b"<a/>", "not a SOAP 1.1 envelope"),
    (b'<e:Envelope xmlns:e="http://schemas.xmlsoap.org/soap/envelope/"><e:Body/></e:Envelope>', "no notifications"),
    (message().replace(b"<OrganizationId>ABC90000000gNcmEAE</OrganizationId>", b""), "no OrganizationId"),
    (message(), "no Notification"),
    (message(*[("Case", "<sf:Id>5009000000AbcdeAAA</sf:Id>")] * 101), "at most 100"),
    (EXAMPLE.replace(b"<Id>04l9000001olR84AAE</Id>", b"<Id>../../x</Id>"), "needs an Id"),
])  # fmt: skip
def test_malformed_messages_are_refused_with_what_is_wrong(body, says):
    with pytest.raises(MalformedPayloadError, match=says):
        outbound.parse(body)


def test_only_the_configured_org_is_accepted_by_its_15_character_id():
    parsed = outbound.parse(EXAMPLE)
    outbound.check_organization(parsed, ORG)
    outbound.check_organization(parsed, ORG[:15])
    with pytest.raises(SignatureError, match="not the org"):
        outbound.check_organization(parsed, "00D000000000001AAA")
    with pytest.raises(SignatureError, match="salesforce.organization_id"):
        outbound.check_organization(parsed, None)


def test_a_fault_is_soap_and_escapes_its_message():
    body = outbound.fault("bad <xml> & more")
    assert "<faultcode>soapenv:Client</faultcode>" in body and "bad &lt;xml&gt; &amp; more" in body
    assert "soapenv:Server" in outbound.fault("down", client=False)
