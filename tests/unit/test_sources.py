"""Source adapters: published vectors verify, one changed byte fails, vendor examples parse to the right fields."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook

from npsloop.errors import (
    MalformedPayloadError,
    NoNpsAnswerError,
    SignatureError,
    UnknownSourceError,
    UnprocessableError,
)
from npsloop.sources import Delivery, adapter

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
GENERIC_SECRET = "whsec_" + base64.b64encode(b"test-secret-for-generic").decode()


def delivery(source, body, headers=None):
    return Delivery(
        source=source, body=body, headers={k.lower(): v for k, v in (headers or {}).items()}, received_at=NOW
    )


def signed_generic(body: bytes, secret=GENERIC_SECRET):
    ts = datetime.now(UTC)
    return {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(ts.timestamp())),
        "webhook-signature": Webhook(secret).sign("msg_1", ts, body.decode()),
    }


def test_typeform_published_vector_verifies_and_a_changed_byte_fails(fixture_bytes):
    body = fixture_bytes("typeform/signature_vector_js_api_client.body.txt")
    header = {"Typeform-Signature": "sha256=X2b3nUhiGjaWHxmPO/YQzUvHXBNac4gPjZ5/bjXrhQY="}
    secret = {"signing_secret": "my-webook-secret"}
    adapter("typeform").verify(delivery("typeform", body, header), secret)
    with pytest.raises(SignatureError):
        adapter("typeform").verify(delivery("typeform", body.replace(b"bar", b"baz"), header), secret)
    with pytest.raises(SignatureError):
        adapter("typeform").verify(delivery("typeform", body, {}), secret)


def test_standard_webhooks_vector_verifies_with_the_library(fixture_bytes, monkeypatch):
    """The published vector (svix) checked by the same library generic uses; its timestamp is from 2021."""
    body = fixture_bytes("formbricks/standard_webhooks_vector.body.txt")
    headers = {
        "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
        "webhook-timestamp": "1614265330",
        "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    }
    wh = Webhook("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
    assert (
        wh.sign(headers["webhook-id"], datetime.fromtimestamp(1614265330, UTC), body.decode())
        == headers["webhook-signature"]
    )
    # live, the 5-minute tolerance refuses that old timestamp: a replay is a 401
    with pytest.raises(SignatureError, match="too old"):
        adapter("generic").verify(
            delivery("generic", body, headers), {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
        )


def test_generic_signature_roundtrip_and_tamper():
    body = json.dumps({"response_id": "r1", "score": 9}).encode()
    headers = signed_generic(body)
    adapter("generic").verify(delivery("generic", body, headers), {"signing_secret": GENERIC_SECRET})
    with pytest.raises(SignatureError):
        adapter("generic").verify(delivery("generic", body + b" ", headers), {"signing_secret": GENERIC_SECRET})
    with pytest.raises(SignatureError, match="no signing_secret configured"):
        adapter("generic").verify(delivery("generic", body, headers), {})
    for broken in ({**headers, "webhook-signature": "garbage"}, {**headers, "webhook-timestamp": "soon"}, {}):
        with pytest.raises(SignatureError):
            adapter("generic").verify(delivery("generic", body, broken), {"signing_secret": GENERIC_SECRET})
    with pytest.raises(SignatureError):
        adapter("generic").verify(
            delivery("generic", b"\xff\xfe", signed_generic(b"x")), {"signing_secret": GENERIC_SECRET}
        )


def test_typeform_docs_example_parses(fixture_bytes):
    r = adapter("typeform").parse(delivery("typeform", fixture_bytes("typeform/form_response_docs_example.json")))
    assert r.response_id == "typeform:a3a12ec67a1365927098a606107fac15"
    assert r.score == 2  # the opinion_scale answer
    assert r.email == "laura@example.com"
    assert r.comment.startswith("It's cold right now!")
    assert r.responded_at == datetime(2018, 1, 18, 18, 17, 2, tzinfo=UTC)
    assert r.attributes == {"user_id": "abc123456", "form_id": "lT4Z3j"}


def test_typeform_hidden_fields_carry_ids_and_touchpoint():
    body = {
        "event_type": "form_response",
        "form_response": {
            "token": "t1",
            "form_id": "f",
            "submitted_at": "2026-08-14T09:00:00Z",
            "hidden": {
                "contact_id": "003000000000001AAA",
                "account_id": "001000000000001AAA",
                "touchpoint": "support",
                "email": "hidden@example.com",
                "campaign": "",
            },
            "answers": [{"type": "number", "number": 10, "field": {"id": "x", "type": "opinion_scale"}}],
        },
    }
    r = adapter("typeform").parse(delivery("typeform", json.dumps(body).encode()))
    assert (r.contact_id, r.account_id, r.touchpoint, r.email) == (
        "003000000000001AAA",
        "001000000000001AAA",
        "support",
        "hidden@example.com",
    )
    assert r.campaign is None  # blank counts as absent


def test_typeform_without_nps_answer_is_ignored_and_bad_score_is_422():
    body = {
        "form_response": {"token": "t", "answers": [{"type": "text", "text": "hi", "field": {"type": "long_text"}}]}
    }
    with pytest.raises(NoNpsAnswerError):
        adapter("typeform").parse(delivery("typeform", json.dumps(body).encode()))
    body["form_response"]["answers"] = [{"type": "number", "number": 12, "field": {"type": "opinion_scale"}}]
    with pytest.raises(UnprocessableError) as err:
        adapter("typeform").parse(delivery("typeform", json.dumps(body).encode()))
    assert "0 to 10" in err.value.message and err.value.field


@pytest.mark.parametrize(
    ("body", "error", "field"),
    [
        (b"{not json", MalformedPayloadError, None),
        (b"[1, 2]", MalformedPayloadError, None),
        (b'{"score": 5}', MalformedPayloadError, "response_id"),
        (b'{"response_id": "x"}', UnprocessableError, "score"),
        (b'{"response_id": "x", "score": 11}', UnprocessableError, "score"),
        (b'{"response_id": "x", "score": 7.5}', UnprocessableError, "score"),
        (b'{"response_id": "x", "score": "9"}', UnprocessableError, "score"),
        (b'{"response_id": "x", "score": 9, "email": "not-an-email"}', UnprocessableError, "email"),
        (b'{"response_id": "x", "score": 9, "responded_at": "yesterday"}', UnprocessableError, "responded_at"),
    ],
)
def test_generic_bad_bodies_name_the_problem(body, error, field):
    with pytest.raises(error) as err:
        adapter("generic").parse(delivery("generic", body))
    assert err.value.field == field
    assert err.value.status in (400, 422)


def test_generic_full_payload():
    body = {
        "response_id": "abc",
        "score": 6,
        "email": " Ada@Example.com ",
        "name": "Ada",
        "comment": "slow",
        "contact_id": "003AAA",
        "account_id": "",
        "touchpoint": "support",
        "campaign": "q3",
        "locale": "de",
        "responded_at": "2026-08-14T09:00:00+02:00",
        "attributes": {"plan": "pro", "seats": 5},
        "unknown_key": "ignored",
    }
    r = adapter("generic").parse(delivery("generic", json.dumps(body).encode()))
    assert r.response_id == "generic:abc" and r.score == 6 and r.email == "Ada@Example.com"
    assert r.account_id is None and r.responded_at == datetime(2026, 8, 14, 7, tzinfo=UTC)
    assert r.attributes == {"plan": "pro", "seats": "5"}


def test_unknown_source_is_404():
    with pytest.raises(UnknownSourceError) as err:
        adapter("nosuchtool")
    assert err.value.status == 404


def test_signature_compare_is_constant_time_hmac():
    """The Typeform check is hmac.compare_digest over the whole header (no early exit on a prefix)."""
    body = b"{}"
    good = "sha256=" + base64.b64encode(hmac.new(b"k", body, hashlib.sha256).digest()).decode()
    adapter("typeform").verify(delivery("typeform", body, {"Typeform-Signature": good}), {"signing_secret": "k"})
    with pytest.raises(SignatureError):
        adapter("typeform").verify(
            delivery("typeform", body, {"Typeform-Signature": good[:-2]}), {"signing_secret": "k"}
        )
