"""The Salesforce stand-in over real HTTP: OAuth, REST resources, collections, composite, Bulk 2.0, test controls."""

import base64
import csv
import io
import json
import re
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests

from npsloop_local.standin import SalesforceStandin
from npsloop_local.standin.ids import to18

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "salesforce"
VERSION = "v62.0"


def fixture(name):
    return json.loads((FIXTURES / name).read_text())


class Org:
    """A requests session holding a stand-in token, with helpers for data API paths."""

    def __init__(self, url):
        self.url = url
        self.http = requests.Session()
        self.login()

    def login(self):
        response = self.http.post(
            f"{self.url}/services/oauth2/token",
            data={"grant_type": "client_credentials", "client_id": "id", "client_secret": "secret"},
        )
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method, path, **kwargs):
        return self.http.request(method, f"{self.url}/services/data/{VERSION}/{path}", **kwargs)

    def query(self, soql, **kwargs):
        return self.call("GET", "query", params={"q": soql}, **kwargs)

    def create(self, sobject, **values):
        response = self.call("POST", f"sobjects/{sobject}", json=values)
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def control(self, method, path, **kwargs):
        return requests.request(method, f"{self.url}/__standin/{path}", **kwargs)

    def records(self, sobject):
        return self.control("GET", f"records/{sobject}").json()

    def stats(self):
        return self.control("GET", "stats").json()


@pytest.fixture(scope="module")
def standin():
    server = SalesforceStandin()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def org(standin):
    assert requests.post(f"{standin.url}/__standin/reset").status_code == 204
    return Org(standin.url)


def _jwt(claims, header=None):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part(header or {'alg': 'RS256'})}.{part(claims)}.c2lnbmF0dXJl"


def _nps(n, **values):
    return {"attributes": {"type": "NPS_Response__c"}, "Response_Id__c": f"typeform:{n}", "Score__c": 9, **values}


# -- OAuth


def test_client_credentials_in_the_form_or_basic_header(standin):
    token_url = f"{standin.url}/services/oauth2/token"
    form = requests.post(token_url, data={"grant_type": "client_credentials", "client_id": "a", "client_secret": "b"})
    basic = requests.post(token_url, data={"grant_type": "client_credentials"}, auth=("consumer-key", "secret"))
    for response in (form, basic):
        assert response.status_code == 200
        body = response.json()
        assert body["instance_url"] == standin.url
        assert re.fullmatch(re.escape(standin.url) + r"/id/00D\w{15}/005\w{15}", body["id"])
        assert body["token_type"] == "Bearer" and body["issued_at"].isdigit() and body["signature"]
        assert "refresh_token" not in body and "expires_in" not in body
    assert form.json()["access_token"] != basic.json()["access_token"]
    missing = requests.post(token_url, data={"grant_type": "client_credentials"})
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_client_id")
    unknown = requests.post(token_url, data={"grant_type": "password", "username": "u"})
    assert unknown.status_code == 400
    assert unknown.json() == {"error": "unsupported_grant_type", "error_description": "grant type not supported"}


def test_jwt_bearer_grant_checks_claims_but_not_the_signature(standin):
    token_url = f"{standin.url}/services/oauth2/token"
    claims = {"iss": "consumer-key", "sub": "integration@example.com", "aud": "https://login.salesforce.com"}

    def token(assertion):
        return requests.post(
            token_url, data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer", "assertion": assertion}
        )

    good = token(_jwt({**claims, "exp": int(time.time()) + 180}))
    assert good.status_code == 200
    assert set(good.json()) >= {"access_token", "scope", "instance_url", "id", "token_type", "issued_at"}
    for bad in (
        _jwt({**claims, "exp": int(time.time()) - 1}),
        _jwt({"iss": "x", "exp": time.time() + 60}),
        "not-a-jwt",
        "a.b",
        "%%%.###.!!!",
    ):
        refused = token(bad)
        assert refused.status_code == 400 and refused.json()["error"] == "invalid_grant", bad


def test_data_calls_need_a_token_the_standin_issued(org):
    expected = fixture("error_invalid_session_id.json")
    for headers in ({}, {"Authorization": "Bearer 00Dxx!forged"}, {"Authorization": "Basic abc"}):
        response = requests.get(
            f"{org.url}/services/data/{VERSION}/query", params={"q": "SELECT Id FROM User"}, headers=headers
        )
        assert response.status_code == 401
        assert response.json() == expected
        assert response.headers["WWW-Authenticate"] == "Token"
        assert response.headers["Sforce-Limit-Info"] == "api-usage=0/100000"
    assert org.stats()["total"] == 0


# -- sObject rows and query


def test_create_account_and_contact_then_query_with_the_parent_field(org):
    created = org.call("POST", "sobjects/Account", json={"Name": "Acme"})
    assert created.status_code == 201
    assert created.json() == {"id": created.json()["id"], "success": True, "errors": []}
    account_id = created.json()["id"]
    assert created.headers["Location"] == f"/services/data/{VERSION}/sobjects/Account/{account_id}"
    contact_id = org.create("Contact", LastName="O'Brien", Email="o'brien@example.com", AccountId=account_id[:15])
    org.create("Contact", LastName="Loner", Email="loner@example.com")

    response = org.query(
        "SELECT Id, Email, Account.OwnerId, Account.Name FROM Contact WHERE Email = 'O\\'Brien@Example.com'"
    )
    assert response.status_code == 200
    assert response.headers["Sforce-Limit-Info"] == "api-usage=4/100000"
    owner_id = org.records("User")[0]["Id"]
    assert response.json() == {
        "totalSize": 1,
        "done": True,
        "records": [
            {
                "attributes": {"type": "Contact", "url": f"/services/data/{VERSION}/sobjects/Contact/{contact_id}"},
                "Id": contact_id,
                "Email": "o'brien@example.com",
                "Account": {
                    "attributes": {"type": "Account", "url": f"/services/data/{VERSION}/sobjects/Account/{account_id}"},
                    "OwnerId": owner_id,
                    "Name": "Acme",
                },
            }
        ],
    }
    loner = org.query("SELECT LastName, Account.OwnerId FROM Contact WHERE AccountId = null").json()["records"]
    assert loner[0]["Account"] is None
    count = org.query("select count() from contact").json()
    assert (count["totalSize"], count["records"]) == (2, [])


def test_single_record_get_update_delete_and_upsert(org):
    account_id = org.create("Account", Name="Acme")
    record = org.call("GET", f"sobjects/Account/{account_id[:15]}").json()
    assert record["Id"] == account_id and record["Name"] == "Acme" and record["NPS_12M__c"] is None
    assert record["IsPersonAccount"] is False
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000", record["CreatedDate"])
    assert org.call("PATCH", f"sobjects/Account/{account_id}", json={"NPS_12M__c": 42.5}).status_code == 204
    assert org.call("GET", f"sobjects/Account/{account_id}").json()["NPS_12M__c"] == 42.5
    assert org.call("DELETE", f"sobjects/Account/{account_id}").status_code == 204
    gone = org.call("GET", f"sobjects/Account/{account_id}")
    assert (gone.status_code, gone.json()) == (404, fixture("error_not_found.json"))
    assert org.call("PATCH", f"sobjects/Account/{account_id}", json={"Name": "x"}).status_code == 404

    path = "sobjects/NPS_Response__c/Response_Id__c/typeform:abc"
    first = org.call("PATCH", path, json={"Score__c": 10})
    assert first.status_code == 201 and first.json()["created"] is True
    again = org.call(
        "PATCH", path.upper().replace("SOBJECTS/NPS_RESPONSE__C", "sobjects/NPS_Response__c"), json={"Score__c": 6}
    )
    assert again.status_code == 200
    assert set(again.json()) == set(fixture("sobject_upsert_extid_response_200_updated.json"))
    assert again.json() == {"id": first.json()["id"], "success": True, "errors": [], "created": False}
    assert org.records("NPS_Response__c")[0]["Score__c"] == 6
    assert org.call("PATCH", "sobjects/NPS_Response__c/Nope__c/x", json={}).status_code == 404

    twins = [org.create("NPS_Response__c", Response_Id__c="twin") for _ in range(2)]
    ambiguous = org.call("PATCH", "sobjects/NPS_Response__c/Response_Id__c/twin", json={"Score__c": 1})
    assert ambiguous.status_code == 300
    assert ambiguous.json() == [f"/services/data/{VERSION}/sobjects/NPS_Response__c/{twin}" for twin in twins]
    in_collection = org.call(
        "PATCH",
        "composite/sobjects/NPS_Response__c/Response_Id__c",
        json={"records": [{**_nps(0), "Response_Id__c": "TWIN"}]},
    )
    assert in_collection.json()[0]["errors"][0]["statusCode"] == "DUPLICATE_EXTERNAL_ID"


def test_write_errors_look_like_salesforce(org):
    def refused(sobject, body):
        response = org.call("POST", f"sobjects/{sobject}", json=body)
        assert response.status_code == 400
        return response.json()

    assert refused("Contact", {"Email": "a@example.com"}) == [
        {
            "message": "Required fields are missing: [LastName]",
            "errorCode": "REQUIRED_FIELD_MISSING",
            "fields": ["LastName"],
        }
    ]
    assert refused("Contact", {"LastName": "x", "Shoe_Size__c": 9})[0]["message"] == (
        "No such column 'Shoe_Size__c' on sobject of type Contact"
    )
    assert refused("Contact", {"LastName": "x", "AccountId": "nonsense"}) == [
        {
            "message": "Account ID: id value of incorrect type: nonsense",
            "errorCode": "MALFORMED_ID",
            "fields": ["AccountId"],
        }
    ]
    no_such_account = to18("001Hs00000ZZZZZ")
    assert refused("Contact", {"LastName": "x", "AccountId": no_such_account})[0]["errorCode"] == (
        "INVALID_CROSS_REFERENCE_KEY"
    )
    bad_json = org.call("POST", "sobjects/Account", data="{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and bad_json.json()[0]["errorCode"] == "JSON_PARSER_ERROR"
    for soql, code in [
        ("SELECT Id FROM", "MALFORMED_QUERY"),
        ("SELECT Id FROM Nope", "INVALID_TYPE"),
        ("SELECT Nope FROM Contact", "INVALID_FIELD"),
    ]:
        response = org.query(soql)
        assert response.status_code == 400 and response.json()[0]["errorCode"] == code
    assert org.create("Custom_Thing__c", Anything__c="goes")[:3] == org.records("Custom_Thing__c")[0]["Id"][:3]


def test_unknown_paths_and_methods(org):
    unknown = org.call("GET", "nothing/here")
    assert (unknown.status_code, unknown.json()) == (
        404,
        [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}],
    )
    assert requests.get(f"{org.url}/somewhere/else").status_code == 404
    wrong_method = org.call("PUT", "sobjects/Account")
    assert wrong_method.status_code == 405 and wrong_method.json()[0]["errorCode"] == "METHOD_NOT_ALLOWED"


# -- paging, collections, validation rules


def test_paging_with_next_records_url(org):
    for start in range(0, 2500, 200):
        chunk = range(start, min(start + 200, 2500))
        records = [{"attributes": {"type": "Contact"}, "LastName": f"C{n:04d}"} for n in chunk]
        response = org.call("POST", "composite/sobjects", json={"allOrNone": False, "records": records})
        assert response.status_code == 200
        assert all(item["success"] for item in response.json())
    assert org.stats()["by_kind"]["collections_create"] == 13

    first = org.query("SELECT Id, LastName FROM Contact ORDER BY LastName").json()
    assert (first["totalSize"], first["done"], len(first["records"])) == (2500, False, 2000)
    published = (FIXTURES / "query_response_first_page.published.txt").read_text()
    published_url = re.search(r'"nextRecordsUrl": "([^"]+)"', published).group(1)
    pattern = r"/services/data/v\d+\.\d/query/01g\w{15}-(\d+)"
    assert re.fullmatch(pattern, published_url)
    assert re.fullmatch(pattern, first["nextRecordsUrl"]).group(1) == "2000"
    second = org.http.get(org.url + first["nextRecordsUrl"]).json()
    assert (second["totalSize"], second["done"], len(second["records"])) == (2500, True, 500)
    assert "nextRecordsUrl" not in second
    names = [r["LastName"] for r in first["records"] + second["records"]]
    assert names == [f"C{n:04d}" for n in range(2500)]

    small = org.query("SELECT Id FROM Contact", headers={"Sforce-Query-Options": "batchSize=1000"}).json()
    pages = [small]
    while not pages[-1]["done"]:
        pages.append(org.http.get(org.url + pages[-1]["nextRecordsUrl"]).json())
    assert [len(page["records"]) for page in pages] == [1000, 1000, 500]
    assert org.stats()["by_kind"]["query_more"] == 3


def test_collections_upsert_creates_then_updates_by_external_id(org):
    path = "composite/sobjects/NPS_Response__c/Response_Id__c"
    first = org.call("PATCH", path, json={"allOrNone": False, "records": [_nps(1), _nps(2), _nps(3)]}).json()
    assert [item["created"] for item in first] == [True, True, True]
    assert all(set(item) == {"id", "success", "errors", "created"} for item in first)
    again = org.call(
        "PATCH", path, json={"records": [_nps(4), {**_nps(2), "Response_Id__c": "TYPEFORM:2", "Score__c": 0}]}
    ).json()
    assert [item["created"] for item in again] == [True, False]
    assert again[1]["id"] == first[1]["id"]
    records = {r["Response_Id__c"]: r["Score__c"] for r in org.records("NPS_Response__c")}
    assert records == {"typeform:1": 9, "TYPEFORM:2": 0, "typeform:3": 9, "typeform:4": 9}

    too_many = org.call("PATCH", path, json={"records": [_nps(n) for n in range(201)]})
    assert too_many.status_code == 400
    assert too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert "cannot submit more than 200 records" in too_many.json()[0]["message"]
    no_field = org.call("PATCH", "composite/sobjects/NPS_Response__c/Nope__c", json={"records": [_nps(1)]})
    assert no_field.status_code == 400 and no_field.json()[0]["errorCode"] == "INVALID_FIELD"


def test_collections_all_or_none_rolls_everything_back(org):
    reference = fixture("collections_upsert_response_allornone_true.json")
    existing = org.call(
        "PATCH", "composite/sobjects/NPS_Response__c/Response_Id__c", json={"records": [_nps(1)]}
    ).json()[0]["id"]
    body = {"allOrNone": True, "records": [_nps(1, Score__c=1), _nps(2), _nps(3, Contact__c="003Hs0000000009")]}
    result = org.call("PATCH", "composite/sobjects/NPS_Response__c/Response_Id__c", json=body)
    assert result.status_code == 200
    updated, created, bad = result.json()
    assert updated == {**reference[0], "id": existing}
    assert created == {"success": False, "errors": reference[0]["errors"]}
    assert bad["success"] is False and bad["errors"][0]["statusCode"] == "INVALID_CROSS_REFERENCE_KEY"
    assert [(r["Response_Id__c"], r["Score__c"]) for r in org.records("NPS_Response__c")] == [("typeform:1", 9)]

    account_id = org.create("Account", Name="Acme")
    mixed = [
        {"attributes": {"type": "Account"}, "id": account_id, "Name": "Acme Corp"},
        {"attributes": {"type": "Contact"}, "id": account_id, "LastName": "Wrong type"},
        {"attributes": {"type": "Account"}, "Name": "No id"},
    ]
    update = org.call("PATCH", "composite/sobjects", json={"records": mixed}).json()
    assert update[0] == {"id": account_id, "success": True, "errors": []}
    assert update[1]["errors"] == [
        {
            "statusCode": "MALFORMED_ID",
            "fields": ["Id"],
            "message": f"Contact ID: id value of incorrect type: {account_id}",
        }
    ]
    assert update[2]["errors"][0]["statusCode"] == "MISSING_ARGUMENT"


def test_collections_delete_by_ids_in_order_and_all_or_none_keeps_everything(org):
    path = "composite/sobjects/NPS_Response__c/Response_Id__c"
    ids = [r["id"] for r in org.call("PATCH", path, json={"records": [_nps(1), _nps(2), _nps(3)]}).json()]
    keep = org.call("DELETE", "composite/sobjects", params={"ids": f"{ids[0]},{ids[0][:15]}x", "allOrNone": "true"})
    assert keep.status_code == 200
    assert [r["success"] for r in keep.json()] == [False, False]
    assert keep.json()[0]["errors"][0]["statusCode"] == "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    assert keep.json()[1]["errors"][0]["statusCode"] == "MALFORMED_ID"
    assert len(org.records("NPS_Response__c")) == 3

    gone = org.call("DELETE", "composite/sobjects", params={"ids": f"{ids[2]},{ids[0][:15]}"}).json()
    assert gone == [{"id": ids[2], "success": True, "errors": []}, {"id": ids[0], "success": True, "errors": []}]
    assert [r["Response_Id__c"] for r in org.records("NPS_Response__c")] == ["typeform:2"]
    again = org.call("DELETE", "composite/sobjects", params={"ids": ids[2]}).json()
    assert again[0]["success"] is False and again[0]["errors"][0]["statusCode"] == "ENTITY_IS_DELETED"
    assert org.call("DELETE", "composite/sobjects").json()[0]["errorCode"] == "MISSING_ARGUMENT"
    too_many = org.call("DELETE", "composite/sobjects", params={"ids": ",".join([ids[1]] * 201)})
    assert too_many.status_code == 400 and too_many.json()[0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    assert org.stats()["by_kind"]["collections_delete"] == 5


def test_a_validation_rule_rejects_one_record_of_200(org):
    rule = {
        "sobject": "NPS_Response__c",
        "field": "Comment__c",
        "equals": "reject me",
        "errorCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
        "message": "Comments may not say that",
    }
    assert org.control("POST", "validation", json=rule).status_code == 201
    records = [_nps(n, Comment__c="REJECT ME" if n == 57 else "fine") for n in range(200)]
    result = org.call("PATCH", "composite/sobjects/NPS_Response__c/Response_Id__c", json={"records": records}).json()
    assert len(result) == 200 and [n for n, item in enumerate(result) if not item["success"]] == [57]
    assert result[57] == {
        "success": False,
        "errors": [
            {
                "statusCode": "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                "message": "Comments may not say that",
                "fields": ["Comment__c"],
            }
        ],
    }
    assert len(org.records("NPS_Response__c")) == 199
    assert org.control("DELETE", "validation").status_code == 204
    assert org.call("POST", "composite/sobjects", json={"records": [records[57]]}).json()[0]["success"]


# -- faults, sessions, accounting


def test_faults_apply_in_order_by_count_then_by_seconds(org):
    org.control("POST", "faults", json={"status": 503, "errorCode": "SERVER_UNAVAILABLE", "count": 2})
    org.control("POST", "faults", json={"errorCode": "UNABLE_TO_LOCK_ROW", "status": 400, "seconds": 0.4})
    org.control("POST", "faults", json={"errorCode": "REQUEST_LIMIT_EXCEEDED", "count": 1})
    assert [f["errorCode"] for f in org.control("GET", "faults").json()] == [
        "SERVER_UNAVAILABLE",
        "UNABLE_TO_LOCK_ROW",
        "REQUEST_LIMIT_EXCEEDED",
    ]
    token = requests.post(
        f"{org.url}/services/oauth2/token", auth=("a", "b"), data={"grant_type": "client_credentials"}
    )
    assert token.status_code == 200  # token requests never get faults

    def status():
        response = org.query("SELECT Id FROM User")
        return response.status_code, response.json()[0]["errorCode"] if response.status_code != 200 else None

    assert [status(), status()] == [(503, "SERVER_UNAVAILABLE")] * 2
    started = time.monotonic()
    assert status() == (400, "UNABLE_TO_LOCK_ROW")
    assert status() == (400, "UNABLE_TO_LOCK_ROW")
    time.sleep(max(0.0, 0.45 - (time.monotonic() - started)))
    limited = org.query("SELECT Id FROM User")
    assert (limited.status_code, limited.json()) == (403, fixture("error_request_limit_exceeded.json"))
    assert status() == (200, None)
    assert org.stats()["total"] == 1  # faulted requests are not counted

    org.control("POST", "faults", json={"status": 500, "count": 5})
    assert org.control("DELETE", "faults").status_code == 204
    assert status() == (200, None)
    assert org.control("POST", "faults", json={"status": 503, "count": 1, "seconds": 2}).status_code == 400


def test_401_fault_and_expired_tokens(org):
    org.control("POST", "faults", json={"status": 401, "errorCode": "INVALID_SESSION_ID", "count": 1})
    faulted = org.query("SELECT Id FROM User")
    assert faulted.status_code == 401 and faulted.headers["WWW-Authenticate"] == "Token"
    assert faulted.json() == fixture("error_invalid_session_id.json")
    assert org.query("SELECT Id FROM User").status_code == 200

    assert org.control("POST", "expire-tokens").status_code == 204
    expired = org.query("SELECT Id FROM User")
    assert (expired.status_code, expired.json()) == (401, fixture("error_invalid_session_id.json"))
    org.login()
    assert org.query("SELECT Id FROM User").status_code == 200


def test_stats_count_calls_the_way_salesforce_does(org):
    composite = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"/services/data/{VERSION}/sobjects/Account",
                "referenceId": "a",
                "body": {"Name": "One"},
            },
            {"method": "GET", "url": f"/services/data/{VERSION}/query?q=SELECT+Id+FROM+Account", "referenceId": "q"},
            {"method": "GET", "url": f"/services/data/{VERSION}/sobjects/Account/@{{a.id}}", "referenceId": "g"},
        ]
    }
    assert org.call("POST", "composite", json=composite).status_code == 200
    response = org.query("SELECT Id FROM Account")
    assert org.stats() == {"total": 2, "by_kind": {"composite": 1, "query": 1}}
    assert response.headers["Sforce-Limit-Info"] == "api-usage=2/100000"
    assert org.control("POST", "stats/reset").status_code == 204
    assert org.stats() == {"total": 0, "by_kind": {}}


def test_the_daily_api_limit_is_enforced():
    server = SalesforceStandin(api_limit=2)
    org = Org(server.start())
    try:
        assert [org.query("SELECT Id FROM User").status_code for _ in range(3)] == [200, 200, 403]
        over = org.query("SELECT Id FROM User")
        assert over.json() == fixture("error_request_limit_exceeded.json")
        assert over.headers["Sforce-Limit-Info"] == "api-usage=2/2"
    finally:
        server.stop()


# -- composite


def test_composite_resolves_references_between_subrequests(org):
    base = f"/services/data/{VERSION}"
    request = {
        "compositeRequest": [
            {
                "method": "POST",
                "url": f"{base}/sobjects/Account",
                "referenceId": "refAccount",
                "body": {"Name": "Sample Account"},
            },
            {
                "method": "POST",
                "url": f"{base}/sobjects/Contact",
                "referenceId": "refContact",
                "body": {"LastName": "Sample Contact", "AccountId": "@{refAccount.id}"},
            },
            {
                "method": "GET",
                "referenceId": "refQuery",
                "url": f"{base}/query/?q=SELECT+Id,Account.Name+FROM+Contact+WHERE+AccountId='@{{refAccount.id}}'",
            },
            {
                "method": "PATCH",
                "url": f"{base}/sobjects/Contact/@{{refQuery.records[0].Id}}",
                "referenceId": "refUpdate",
                "body": {"Email": "sample@example.com"},
            },
            {
                "method": "PATCH",
                "url": f"{base}/composite/sobjects/NPS_Response__c/Response_Id__c",
                "referenceId": "refResponses",
                "body": {"records": [_nps(1, Contact__c="@{refContact.id}", Account__c="@{refAccount.id}")]},
            },
        ]
    }
    result = org.call("POST", "composite", json=request).json()["compositeResponse"]
    assert [item["httpStatusCode"] for item in result] == [201, 201, 200, 204, 200]
    assert [item["referenceId"] for item in result] == [
        "refAccount",
        "refContact",
        "refQuery",
        "refUpdate",
        "refResponses",
    ]
    account_id, contact_id = result[0]["body"]["id"], result[1]["body"]["id"]
    assert result[1]["httpHeaders"] == {"Location": f"{base}/sobjects/Contact/{contact_id}"}
    assert result[2]["body"]["records"][0]["Account"]["Name"] == "Sample Account"
    assert result[3]["body"] is None
    assert org.records("Contact")[0]["Email"] == "sample@example.com"
    response = org.records("NPS_Response__c")[0]
    assert (response["Contact__c"], response["Account__c"]) == (contact_id, account_id)


def test_composite_all_or_none_rolls_back_and_halts(org):
    base = f"/services/data/{VERSION}"
    request = {
        "allOrNone": True,
        "compositeRequest": [
            {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "ok", "body": {"Name": "Kept?"}},
            {"method": "POST", "url": f"{base}/sobjects/Contact", "referenceId": "bad", "body": {"Email": "x@y.z"}},
            {"method": "POST", "url": f"{base}/sobjects/Account", "referenceId": "later", "body": {"Name": "Never"}},
        ],
    }
    result = org.call("POST", "composite", json=request).json()["compositeResponse"]
    halted = [
        {
            "errorCode": "PROCESSING_HALTED",
            "message": "The transaction was rolled back since another operation in the same transaction failed.",
        }
    ]
    assert [(item["referenceId"], item["httpStatusCode"]) for item in result] == [
        ("ok", 400),
        ("bad", 400),
        ("later", 400),
    ]
    assert result[0]["body"] == result[2]["body"] == halted
    assert result[1]["body"][0]["errorCode"] == "REQUIRED_FIELD_MISSING"
    assert org.records("Account") == []

    request["allOrNone"] = False
    request["compositeRequest"][1] = {
        "method": "GET",
        "url": f"{base}/sobjects/Contact/@{{nothing.id}}",
        "referenceId": "dangling",
    }
    result = org.call("POST", "composite", json=request).json()["compositeResponse"]
    assert [item["httpStatusCode"] for item in result] == [201, 400, 201]
    assert result[1]["body"][0]["errorCode"] == "PROCESSING_HALTED"
    assert len(org.records("Account")) == 2
    too_many = {"compositeRequest": [request["compositeRequest"][0]] * 26}
    assert org.call("POST", "composite", json=too_many).status_code == 400


# -- Bulk API 2.0


def test_bulk_ingest_upsert_job_end_to_end(org):
    org.call("PATCH", "composite/sobjects/NPS_Response__c/Response_Id__c", json={"records": [_nps(1)]})
    org.control("POST", "stats/reset")
    job = org.call(
        "POST",
        "jobs/ingest/",
        json={
            "object": "NPS_Response__c",
            "externalIdFieldName": "Response_Id__c",
            "contentType": "CSV",
            "operation": "upsert",
            "lineEnding": "LF",
        },
    )
    assert job.status_code == 200
    info = job.json()
    assert set(fixture("bulk2_create_upsert_job_response.json")) <= set(info)
    assert (info["state"], info["object"], info["apiVersion"]) == ("Open", "NPS_Response__c", 62.0)
    job_path = f"jobs/ingest/{info['id']}/"

    data = 'Response_Id__c,Score__c,Comment__c\ntypeform:1,3,"Slow, but ok"\ntypeform:2,abc,bad\ntypeform:3,10,\n'
    upload = org.call("PUT", job_path + "batches/", data=data.encode(), headers={"Content-Type": "text/csv"})
    assert (upload.status_code, upload.content) == (201, b"")
    closed = org.call("PATCH", job_path, json={"state": "UploadComplete"})
    assert closed.status_code == 200 and closed.json()["state"] == "UploadComplete"
    done = org.call("GET", job_path).json()
    assert (done["state"], done["numberRecordsProcessed"], done["numberRecordsFailed"]) == ("JobComplete", 3, 1)

    successes = org.call("GET", job_path + "successfulResults/")
    assert successes.headers["Content-Type"].startswith("text/csv")
    reference_header = (FIXTURES / "bulk2_successful_results_upsert.csv").read_text().splitlines()[0]
    assert reference_header.startswith('"sf__Id","sf__Created",customExtIdField__c,')
    lines = successes.text.splitlines()
    assert lines[0] == '"sf__Id","sf__Created",Response_Id__c,Score__c,Comment__c'
    rows = list(csv.reader(io.StringIO(successes.text)))[1:]
    assert [(row[1], row[2:]) for row in rows] == [
        ("false", ["typeform:1", "3", "Slow, but ok"]),
        ("true", ["typeform:3", "10", ""]),
    ]
    failed = list(csv.reader(io.StringIO(org.call("GET", job_path + "failedResults/").text)))
    assert failed[0] == ["sf__Id", "sf__Error", "Response_Id__c", "Score__c", "Comment__c"]
    assert failed[1] == [
        "",
        "INVALID_TYPE_ON_FIELD_IN_RECORD:Score__c: value not of required type: abc:Score__c --",
        "typeform:2",
        "abc",
        "bad",
    ]
    scores = {r["Response_Id__c"]: (r["Score__c"], r["Comment__c"]) for r in org.records("NPS_Response__c")}
    assert scores == {"typeform:1": (3, "Slow, but ok"), "typeform:3": (10, None)}
    assert org.stats() == {"total": 6, "by_kind": {"bulk": 6}}

    missing = org.call("GET", "jobs/ingest/750Hs00000NoJob/")
    assert (missing.status_code, missing.json()) == (404, fixture("error_not_found.json"))
    assert org.call("PUT", job_path + "batches/", data=data).status_code == 409


# -- ids, threads, binding


def test_ids_are_18_characters_with_the_real_checksum(org):
    known = fixture("sobject_upsert_extid_response_200_updated.json")["id"]
    assert known == "001D000000Kv3g5IAB" and to18("001D000000Kv3g5") == known
    assert to18(known.lower()) == known
    assert to18("too-short") is None
    account_id = org.create("Account", Name="Acme")
    assert len(account_id) == 18 and account_id.startswith("001") and to18(account_id[:15]) == account_id
    assert org.call("GET", f"sobjects/Account/{account_id[:15]}").json()["Id"] == account_id
    prefixes = {
        org.create(sobject, **values)[:3]
        for sobject, values in [
            ("Contact", {"LastName": "x"}),
            ("Lead", {"LastName": "x"}),
            ("Task", {"Subject": "x"}),
        ]
    }
    assert prefixes == {"003", "00Q", "00T"}
    assert org.records("Task")[0]["OwnerId"].startswith("005")


def test_concurrent_requests_and_loopback_binding(standin, org):
    assert standin.url.startswith("http://127.0.0.1:")

    def create(n):
        url = f"{org.url}/services/data/{VERSION}/sobjects/Account"
        return requests.post(url, json={"Name": f"Account {n}"}, headers=dict(org.http.headers))

    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(create, range(64)))
    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 64
    assert org.query("SELECT COUNT() FROM Account").json()["totalSize"] == 64


def test_records_persist_in_a_given_sqlite_file(tmp_path):
    database = str(tmp_path / "salesforce.sqlite")
    first = SalesforceStandin(db_path=database)
    account_id = Org(first.start()).create("Account", Name="Kept")
    first.stop()
    second = SalesforceStandin(db_path=database)
    org = Org(second.start())
    try:
        assert [record["Id"] for record in org.records("Account")] == [account_id]
        assert len(org.records("User")) == 1
        assert org.create("Account", Name="New") != account_id
    finally:
        second.stop()


def test_an_upsert_finds_its_record_by_an_index_not_by_reading_every_record():
    from npsloop_local.standin.store import Store

    # Given a store with records of two sObjects carrying the same external id value in different cases
    store = Store(":memory:")
    ids = [store.insert(sobject, {"Response_Id__c": value}) for sobject, value in
           (("NPS_Response__c", "a:1"), ("Contact", "A:1"), ("NPS_Response__c", "b:2"))]  # fmt: skip
    # When one is looked up by its external id
    found = store.find("NPS_Response__c", "Response_Id__c", "A:1")
    # Then it is found case-insensitively within its sObject, through an index on the field
    assert found == [ids[0]]
    plan = store._db.execute(f"EXPLAIN QUERY PLAN {store.lookup('Response_Id__c')[1]}", ("x", "y")).fetchall()
    assert any("USING INDEX records_by_Response_Id__c" in row[-1] for row in plan), plan
