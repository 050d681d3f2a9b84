"""The sObjects the stand-in knows: fields, required fields, lookups and key prefixes."""

import re
from dataclasses import dataclass, field

from .ids import custom_prefix

SYSTEM_FIELDS = ("Id", "CreatedDate", "LastModifiedDate", "SystemModstamp")
NAME_PATTERN = re.compile(r"[A-Za-z][A-Za-z0-9_]*")


@dataclass(frozen=True)
class Reference:
    """A lookup field: the objects it may point to (empty = any) and the label used in error messages."""

    targets: tuple[str, ...]
    label: str
    must_exist: bool = True  # writes must name an existing record


@dataclass(frozen=True)
class SObjectType:
    name: str
    prefix: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()
    references: dict[str, Reference] = field(default_factory=dict)
    numbers: tuple[str, ...] = ()
    booleans: tuple[str, ...] = ()
    default_owner: bool = False

    def field(self, name: str) -> str | None:
        """The canonical spelling of a field (system fields included), matched case-insensitively."""
        lowered = name.lower()
        return next((f for f in (*SYSTEM_FIELDS, *self.fields) if f.lower() == lowered), None)

    def relationship(self, name: str) -> tuple[str, str, Reference] | None:
        """(relationship name, lookup field, reference) for a relationship name such as Account or Contact__r."""
        lowered = name.lower()
        for ref_field, reference in self.references.items():
            rel = ref_field[:-2] if ref_field.endswith("Id") else ref_field[:-3] + "__r"
            if rel.lower() == lowered:
                return rel, ref_field, reference
        return None


def _names(text: str) -> tuple[str, ...]:
    return tuple(text.split())


_OWNER = Reference(("User",), "Owner ID", must_exist=False)

KNOWN: dict[str, SObjectType] = {
    t.name.lower(): t
    for t in (
        SObjectType(
            "Account",
            "001",
            _names(
                "Name OwnerId NPS_12M__c NPS_Responses_12M__c NPS_Updated_At__c IsPersonAccount PersonEmail"
                " PersonContactId PersonHasOptedOutOfEmail NPS_Last_Score__pc NPS_Last_Category__pc"
                " NPS_Last_Responded_At__pc"
            ),
            required=("Name",),
            references={"OwnerId": _OWNER},
            numbers=("NPS_12M__c", "NPS_Responses_12M__c", "NPS_Last_Score__pc"),
            booleans=("IsPersonAccount", "PersonHasOptedOutOfEmail"),
            default_owner=True,
        ),
        SObjectType(
            "Contact",
            "003",
            _names(
                "FirstName LastName Email AccountId HasOptedOutOfEmail"
                " NPS_Last_Score__c NPS_Last_Category__c NPS_Last_Responded_At__c"
            ),
            required=("LastName",),
            references={"AccountId": Reference(("Account",), "Account ID")},
            numbers=("NPS_Last_Score__c",),
            booleans=("HasOptedOutOfEmail",),
        ),
        SObjectType("Lead", "00Q", _names("FirstName LastName Email Company LeadSource Status")),
        SObjectType(
            "Task",
            "00T",
            _names("Subject Description WhoId WhatId OwnerId ActivityDate Priority Status"),
            references={
                "WhoId": Reference(("Contact", "Lead"), "Name ID"),
                "WhatId": Reference((), "Related To ID"),
                "OwnerId": _OWNER,
            },
            default_owner=True,
        ),
        SObjectType("User", "005", _names("Name Email")),
        SObjectType(
            "NPS_Response__c",
            "a0X",
            _names(
                "Response_Id__c Score__c Category__c Comment__c Source__c Touchpoint__c Campaign__c"
                " Responded_At__c Email__c Contact__c Account__c Themes__c Sentiment__c Name"
            ),
            required=("Response_Id__c",),
            references={
                "Contact__c": Reference(("Contact",), "Contact"),
                "Account__c": Reference(("Account",), "Account"),
            },
            numbers=("Score__c",),
        ),
    )
}


def lookup(sobject: str) -> SObjectType | None:
    return KNOWN.get(sobject.lower())


def canonical_name(sobject: str) -> str:
    """The known spelling of an sObject name, or the name as given for objects the stand-in does not know."""
    known = lookup(sobject)
    return known.name if known else sobject


def key_prefix(sobject: str) -> str:
    known = lookup(sobject)
    return known.prefix if known else custom_prefix(sobject)


def type_label(sobject: str) -> str:
    """How Salesforce names an object's id in MALFORMED_ID messages ("Contact ID: id value of incorrect type")."""
    return f"{canonical_name(sobject)} ID"
