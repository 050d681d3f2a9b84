"""The Salesforce stand-in's SOQL subset: parsing, field checks, filtering, ordering and result shape."""

import json
from pathlib import Path

import pytest

from npsloop_local.standin import soql

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"

ACME = {"Id": "001Hs0000000001IAA", "Name": "Acme", "OwnerId": "005Hs00000IntUsIAJ"}
GLOBEX = {"Id": "001Hs0000000002IAA", "Name": "Globex", "OwnerId": "005Hs0000000009IAA"}
PARENTS = {record["Id"]: ("Account", record) for record in (ACME, GLOBEX)}


def _contact(n, last, email, score=None, account=None, responded=None, opted_out=False):
    return {
        "Id": f"003Hs000000000{n}IAA",
        "LastName": last,
        "Email": email,
        "NPS_Last_Score__c": score,
        "AccountId": account,
        "NPS_Last_Responded_At__c": responded,
        "HasOptedOutOfEmail": opted_out,
    }


CONTACTS = [
    _contact(1, "O'Brien", "o'brien@example.com", 9, ACME["Id"], "2026-03-01T10:00:00.000+0000"),
    _contact(2, "Smith", "ann.smith@example.com", 3, GLOBEX["Id"], "2025-12-31T23:59:59.000+0000", opted_out=True),
    _contact(3, "Jones", "BOB@Example.com", 7, None, None),
    _contact(4, "100% Sure", "pct@example.org", None, ACME["Id"], "2026-01-01T00:00:00.000+0000"),
]


def fetch(record_id):
    return PARENTS.get(record_id)


def query(text):
    return soql.run(soql.parse(text), CONTACTS, fetch)


def last_names(text):
    return [record["LastName"] for record in query(text)]


def url(sobject, record_id):
    return f"/services/data/v62.0/sobjects/{sobject}/{record_id}"


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("NPS_Last_Score__c = 9", ["O'Brien"]),
        ("NPS_Last_Score__c != 9", ["Smith", "Jones", "100% Sure"]),
        ("NPS_Last_Score__c <> 9", ["Smith", "Jones", "100% Sure"]),
        ("NPS_Last_Score__c < 7", ["Smith"]),
        ("NPS_Last_Score__c <= 7", ["Smith", "Jones"]),
        ("NPS_Last_Score__c > 7", ["O'Brien"]),
        ("NPS_Last_Score__c >= 7", ["O'Brien", "Jones"]),
        ("NPS_Last_Score__c = null", ["100% Sure"]),
        ("NPS_Last_Score__c != null", ["O'Brien", "Smith", "Jones"]),
        ("LastName IN ('smith', 'JONES', 'nobody')", ["Smith", "Jones"]),
        ("LastName NOT IN ('smith', 'jones')", ["O'Brien", "100% Sure"]),
        ("Email LIKE '%@example.com'", ["O'Brien", "Smith", "Jones"]),
        ("Email LIKE 'b_b@%'", ["Jones"]),
        ("LastName LIKE '100\\% %'", ["100% Sure"]),
        ("LastName LIKE '1__\\%%'", ["100% Sure"]),
        ("HasOptedOutOfEmail = true", ["Smith"]),
        ("HasOptedOutOfEmail = FALSE", ["O'Brien", "Jones", "100% Sure"]),
        ("NPS_Last_Responded_At__c >= 2026-01-01T00:00:00Z", ["O'Brien", "100% Sure"]),
        ("NPS_Last_Responded_At__c <= 2026-01-01T01:00:00+01:00", ["Smith", "100% Sure"]),
        ("NPS_Last_Responded_At__c > 2026-02-01", ["O'Brien"]),
    ],
)
def test_each_operator(where, expected):
    assert last_names(f"SELECT Id, LastName FROM Contact WHERE {where}") == expected


def test_and_or_need_parentheses_to_mix_and_they_decide_precedence():
    base = "SELECT LastName FROM Contact WHERE "
    assert last_names(base + "(LastName = 'Smith' OR LastName = 'Jones') AND NPS_Last_Score__c > 5") == ["Jones"]
    assert last_names(base + "LastName = 'Smith' OR (LastName = 'Jones' AND NPS_Last_Score__c > 5)") == [
        "Smith",
        "Jones",
    ]
    assert last_names(base + "LastName = 'Smith' OR LastName = 'Jones' OR LastName = 'x'") == ["Smith", "Jones"]
    assert last_names(base + "NOT (LastName = 'Smith' OR LastName = 'Jones')") == ["O'Brien", "100% Sure"]
    assert last_names(base + "Email != null AND (NOT LastName LIKE 'o%')") == ["Smith", "Jones", "100% Sure"]
    with pytest.raises(soql.SoqlError) as mixed:
        soql.parse(base + "LastName = 'Smith' AND Email != null OR LastName = 'Jones'")
    assert mixed.value.error_code == "MALFORMED_QUERY"
    assert mixed.value.message.endswith("unexpected token: 'OR'")
    with pytest.raises(soql.SoqlError, match="unexpected token: 'NOT'"):
        soql.parse(base + "Email != null AND NOT LastName = 'Smith'")


def test_escapes_in_string_literals():
    assert last_names("SELECT LastName FROM Contact WHERE Email = 'o\\'brien@example.com'") == ["O'Brien"]
    assert last_names("SELECT LastName FROM Contact WHERE LastName IN ('O\\'Brien', 'x\\\\y', 'a\\nb')") == ["O'Brien"]
    parsed = soql.parse("SELECT Id FROM Contact WHERE Email = 'a\\\\b\\\"c\\u00e9'")
    assert parsed.where.value == 'a\\b"cé'
    with pytest.raises(soql.SoqlError, match=r"Illegal character sequence '\\q'"):
        soql.parse("SELECT Id FROM Contact WHERE Email = 'a\\qb'")


def test_strings_and_keywords_are_case_insensitive():
    assert last_names("select lastname from CONTACT where EMAIL = 'bob@example.COM'") == ["Jones"]
    assert query("SeLeCt email FrOm contact WhErE lastname = 'SMITH'") == [CONTACTS[1]]


def test_order_by_and_limit():
    assert last_names("SELECT LastName FROM Contact ORDER BY LastName") == ["100% Sure", "Jones", "O'Brien", "Smith"]
    assert last_names("SELECT LastName FROM Contact ORDER BY NPS_Last_Score__c DESC LIMIT 2") == ["O'Brien", "Jones"]
    # Salesforce's defaults: nulls first ascending, last descending; both can be overridden
    assert last_names("SELECT LastName FROM Contact ORDER BY NPS_Last_Score__c")[0] == "100% Sure"
    assert last_names("SELECT LastName FROM Contact ORDER BY NPS_Last_Score__c DESC")[-1] == "100% Sure"
    assert last_names("SELECT LastName FROM Contact ORDER BY NPS_Last_Score__c ASC NULLS LAST")[-1] == "100% Sure"
    assert last_names("SELECT LastName FROM Contact ORDER BY NPS_Last_Score__c DESC NULLS FIRST")[0] == "100% Sure"
    by_account = "SELECT LastName FROM Contact ORDER BY Account.Name DESC NULLS LAST, LastName ASC"
    assert last_names(by_account) == ["Smith", "100% Sure", "O'Brien", "Jones"]
    assert last_names("SELECT LastName FROM Contact LIMIT 0") == []


def test_parent_fields_come_nested_and_can_be_filtered_on():
    parsed = soql.parse("SELECT Id, Email, Account.OwnerId, account.name FROM Contact WHERE Account.Name = 'acme'")
    rows = soql.run(parsed, CONTACTS, fetch)
    assert [row["LastName"] for row in rows] == ["O'Brien", "100% Sure"]
    assert soql.shape(parsed, "Contact", rows[0], fetch, url) == {
        "attributes": {"type": "Contact", "url": url("Contact", CONTACTS[0]["Id"])},
        "Id": CONTACTS[0]["Id"],
        "Email": "o'brien@example.com",
        "Account": {
            "attributes": {"type": "Account", "url": url("Account", ACME["Id"])},
            "OwnerId": ACME["OwnerId"],
            "Name": "Acme",
        },
    }
    orphan = soql.shape(parsed, "Contact", CONTACTS[2], fetch, url)
    assert orphan["Account"] is None


def test_custom_and_polymorphic_relationships():
    parsed = soql.parse("SELECT Contact__r.Email, Account__r.Name FROM NPS_Response__c")
    assert [field.steps for field in parsed.fields] == [
        (("Contact__r", "Contact__c"),),
        (("Account__r", "Account__c"),),
    ]
    who = soql.parse("SELECT Who.LastName, What.Name FROM Task")
    assert [field.name for field in who.fields] == ["LastName", "Name"]


def test_id_literals_are_normalised_to_18_characters():
    records = [{"Id": "003Hs0000000001IAA", "LastName": "X", "AccountId": "001D000000Kv3g5IAB"}]
    fifteen = soql.parse("SELECT Id FROM Contact WHERE AccountId = '001D000000Kv3g5'")
    assert fifteen.where.value == "001D000000Kv3g5IAB"
    assert soql.run(fifteen, records, fetch) == records
    with pytest.raises(soql.SoqlError) as bad:
        soql.parse("SELECT Id FROM Contact WHERE Id = 'not-an-id'")
    assert bad.value.error_code == "INVALID_QUERY_FILTER_OPERATOR"
    assert bad.value.message.endswith("invalid ID field: not-an-id")


def test_count():
    parsed = soql.parse("SELECT COUNT() FROM Contact WHERE Email LIKE '%example.com'")
    assert parsed.is_count
    assert len(soql.run(parsed, CONTACTS, fetch)) == 3


def test_unknown_field_is_invalid_field_worded_like_salesforce():
    real = json.loads((FIXTURES / "error_invalid_field_query.json").read_text())[0]
    with pytest.raises(soql.SoqlError) as error:
        soql.parse("select Id, Company,Email,LastName,SF_date__c, ConvertedContactId from Lead")
    assert error.value.error_code == real["errorCode"] == "INVALID_FIELD"
    # Salesforce echoes a window of the query on the first line; caret, position and text are the same
    assert error.value.message.split("\n")[2:] == real["message"].split("\n")[2:]


@pytest.mark.parametrize(
    ("text", "code", "message"),
    [
        ("SELECT Id FROM Nope__c", "INVALID_TYPE", "sObject type 'Nope__c' is not supported."),
        ("SELECT Id, Nope FROM Contact", "INVALID_FIELD", "No such column 'Nope' on entity 'Contact'."),
        ("SELECT Acount.Name FROM Contact", "INVALID_FIELD", "Didn't understand relationship 'Acount'"),
        ("SELECT Id FROM", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT FROM Contact", "MALFORMED_QUERY", "unexpected token: 'FROM'"),
        ("SELECT Id Contact", "MALFORMED_QUERY", "unexpected token: 'Contact'"),
        ("SELECT Id FROM Contact WHERE", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email = 'open", "MALFORMED_QUERY", "mismatched character '<EOF>'"),
        ("SELECT Id FROM Contact WHERE Email = ", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE (Email = 'a'", "MALFORMED_QUERY", "unexpected token: <EOF>"),
        ("SELECT Id FROM Contact WHERE Email LIKE 5", "MALFORMED_QUERY", "unexpected token: '5'"),
        ("SELECT Id FROM Contact WHERE Email IN ()", "MALFORMED_QUERY", "unexpected token: ')'"),
        ("SELECT Id FROM Contact LIMIT x", "MALFORMED_QUERY", "unexpected token: 'x'"),
        ("SELECT Id FROM Contact ORDER Email", "MALFORMED_QUERY", "unexpected token: 'Email'"),
        ("SELECT Id, Id FROM Contact", "MALFORMED_QUERY", "duplicate field selected: Id"),
        ("SELECT Id FROM Contact WHERE Email = 'a' #", "MALFORMED_QUERY", "unexpected token: '#'"),
        ("DELETE FROM Contact", "MALFORMED_QUERY", "unexpected token: 'DELETE'"),
    ],
)
def test_malformed_queries_raise_salesforce_errors(text, code, message):
    with pytest.raises(soql.SoqlError) as error:
        soql.parse(text)
    assert error.value.error_code == code
    assert message in error.value.message
    assert "\nERROR at Row:1:Column:" in error.value.message


def test_equals_is_the_rule_used_for_validation_values():
    assert soql.equals("Detractor", "detractor")
    assert soql.equals(9, "9") and soql.equals("9", 9) and soql.equals("true", True)
    assert soql.equals(None, None) and not soql.equals(None, "x") and not soql.equals("x", None)
