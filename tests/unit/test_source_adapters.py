"""Every survey tool's adapter: published vectors verify and one changed byte fails; the vendors' examples parse to
the right score, email, comment and hidden fields, or are ignored when they hold no NPS answer."""

import base64
import hashlib
import hmac
import json
from datetime import UTC, datetime

import pytest

from npsloop.errors import MalformedPayloadError, NoNpsAnswerError, SignatureError, UnprocessableError
from npsloop.mapping import SourceMapping
from npsloop.models import FetchJob
from npsloop.sources import SOURCES, Delivery, adapter
from npsloop_local.signing import sign

NOW = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
JOTFORM_TYPE = "multipart/form-data; boundary=------------------------J1JNT4vbVO4FCC1qLG4HSv"


def delivery(source, body, headers=None, query=None, content_type="application/json"):
    headers = {"content-type": content_type, **{k.lower(): v for k, v in (headers or {}).items()}}
    return Delivery(source=source, body=body, headers=headers, received_at=NOW, query=query or {})


def parse(source, body, mapping=None, **kw):
    return adapter(source).parse(delivery(source, body, **kw), SourceMapping.model_validate(mapping or {}))


def test_every_source_is_registered_with_the_same_shape():
    assert SOURCES == ("typeform", "surveymonkey", "qualtrics", "survicate", "formbricks", "tally", "jotform",
                       "trustmary", "zapier", "generic", "email")  # fmt: skip
    for name in SOURCES:
        module = adapter(name)
        assert callable(module.verify) and callable(module.parse) and module.CONTENT_TYPES
        assert module.__doc__.strip()
    assert callable(adapter("surveymonkey").fetch) and callable(adapter("qualtrics").fetch)


# --- signatures ------------------------------------------------------------------------------------------------------
def test_qualtrics_published_vector_verifies_and_a_changed_byte_fails(fixture_bytes):
    msg = fixture_bytes("qualtrics/completedResponse_MSG_kyma_hmac_test.json").decode()
    expected = (
        "c2c585a404c239aa3063b462cc33551d3ed3ed2de0899f58d456fc0ef7ebef6f3c3af44957989bd0592603e41edde9528f7d9ed09"
        "ee128bf719aa12f46e5c598"
    )
    from urllib.parse import urlencode

    body = urlencode({"Topic": "x.surveyengine.completedResponse.SV_1", "MSG": msg, "HMAC": expected}).encode()
    secret = {"signing_secret": "kyma4ever"}
    form = "application/x-www-form-urlencoded"
    adapter("qualtrics").verify(delivery("qualtrics", body, content_type=form), secret)
    tampered = urlencode({"Topic": "t", "MSG": msg.replace("R_0B7", "R_0B8"), "HMAC": expected}).encode()
    with pytest.raises(SignatureError):
        adapter("qualtrics").verify(delivery("qualtrics", tampered, content_type=form), secret)
    job = adapter("qualtrics").parse(delivery("qualtrics", body, content_type=form))
    assert job.ids == {"survey_id": "SV_1AmkKSDmoZ4XlQx", "response_id": "R_0B7IcnXszjEUHLP"}
    assert job.response_id == "qualtrics:R_0B7IcnXszjEUHLP"


def test_qualtrics_unsigned_delivery_is_refused_but_parses(fixture_bytes):
    body = fixture_bytes("qualtrics/completedResponse_unsigned_lambda_test.form.txt")
    form = "application/x-www-form-urlencoded"
    with pytest.raises(SignatureError, match="sharedKey"):
        adapter("qualtrics").verify(delivery("qualtrics", body, content_type=form), {"signing_secret": "k"})
    job = adapter("qualtrics").parse(delivery("qualtrics", body, content_type=form))
    assert job.ids == {"survey_id": "SV_37SzcRddmWjbkk", "response_id": "R_yjpFuS1lQRM7YMF"}
    event = json.loads(fixture_bytes("qualtrics/completedResponse_unsigned_lambda_test.apigw_event.json"))
    assert event["body"].encode() == body


def test_formbricks_standard_webhooks_vector_verifies_at_its_time_and_a_changed_byte_fails(fixture_bytes, monkeypatch):
    import standardwebhooks.webhooks as sw

    body = fixture_bytes("formbricks/standard_webhooks_vector.body.txt")
    headers = {"webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek", "webhook-timestamp": "1614265330",
               "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="}  # fmt: skip
    secret = {"signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
    with pytest.raises(SignatureError, match="too old"):  # live, a five-year-old timestamp is a replay
        adapter("formbricks").verify(delivery("formbricks", body, headers), secret)

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.fromtimestamp(1614265330 + 60, tz)

    monkeypatch.setattr(sw, "datetime", Frozen)
    adapter("formbricks").verify(delivery("formbricks", body, headers), secret)
    with pytest.raises(SignatureError):
        adapter("formbricks").verify(delivery("formbricks", body.replace(b"2", b"3", 1), headers), secret)


@pytest.mark.parametrize(
    ("source", "secret", "header"),
    [
        ("typeform", {"signing_secret": "s"}, "typeform-signature"),
        ("tally", {"signing_secret": "s"}, "tally-signature"),
        ("survicate", {"signing_secret": "s"}, "hmac"),
        ("surveymonkey", {"api_key": "k", "api_secret": "s"}, "sm-signature"),
        ("formbricks", {"signing_secret": "whsec_" + base64.b64encode(b"s" * 24).decode()}, "webhook-signature"),
        ("generic", {"signing_secret": "whsec_" + base64.b64encode(b"s" * 24).decode()}, "webhook-signature"),
    ],
)
def test_each_signing_scheme_round_trips_and_one_changed_byte_fails(source, secret, header):
    body = b'{"a": "b"}'
    headers = sign(source, body, secret)
    adapter(source).verify(delivery(source, body, headers), secret)
    with pytest.raises(SignatureError):
        adapter(source).verify(delivery(source, b'{"a": "c"}', headers), secret)
    with pytest.raises(SignatureError):
        adapter(source).verify(
            delivery(source, body, {k: v for k, v in headers.items() if k.lower() != header}), secret
        )
    with pytest.raises(SignatureError, match="configured"):
        adapter(source).verify(delivery(source, body, headers), {})


def test_survicate_and_surveymonkey_recipes_match_the_reference():
    body = b'{"x": 1}'
    assert sign("survicate", body, {"signing_secret": "k"})["Hmac"] == hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert (
        sign("surveymonkey", body, {"api_key": "a", "api_secret": "b"})["Sm-Signature"]
        == base64.b64encode(hmac.new(b"a&b", body, hashlib.sha1).digest()).decode()
    )


@pytest.mark.parametrize("source", ["jotform", "trustmary", "zapier"])
def test_token_tools_take_the_header_or_the_query_parameter(source):
    secret = {"token": "t0ken"}
    adapter(source).verify(delivery(source, b"", {"X-Npsloop-Token": "t0ken"}), secret)
    adapter(source).verify(delivery(source, b"", query={"token": "t0ken"}), secret)
    for wrong in ({"X-Npsloop-Token": "t0keN"}, {}):
        with pytest.raises(SignatureError):
            adapter(source).verify(delivery(source, b"", wrong), secret)
    with pytest.raises(SignatureError, match="no token configured"):
        adapter(source).verify(delivery(source, b"", {"X-Npsloop-Token": "x"}), {})


# --- vendors' examples -----------------------------------------------------------------------------------------------
def test_tally_docs_example_parses_the_linear_scale(fixture_bytes):
    body = fixture_bytes("tally/form_response_docs_all_field_types.json")
    r = parse("tally", body)
    assert (r.response_id, r.score, r.comment) == ("tally:2wgx4n", 7, "Hello world")
    assert r.email is None  # the published example's addresses are obfuscated by the docs page, not addresses
    assert r.attributes["utm_campaign"] == "newsletter" and r.attributes["form_id"] == "VwbNEw"
    assert r.responded_at == datetime(2023, 6, 28, 15, 0, 21, tzinfo=UTC)
    real = body.replace(b"[email\xc2\xa0protected]", b"ada@example.com").replace(
        b"[email protected]", b"ada@example.com"
    )
    r = parse("tally", real, {"hidden": {"campaign": "utm_campaign"}})
    assert r.email == "ada@example.com" and r.campaign == "newsletter" and "utm_campaign" not in r.attributes


def test_typeform_docs_example_parses_with_a_mapping_by_ref_and_title(fixture_bytes):
    body = fixture_bytes("typeform/form_response_docs_example.json")
    form = json.loads(body)["form_response"]
    rating = next(a for a in form["answers"] if a["field"]["type"] == "rating")
    r = parse("typeform", body, {"score": {"id": rating["field"]["id"]}, "hidden": {"contact_id": "user_id"}})
    assert r.score == rating["number"] and r.contact_id == "abc123456"
    title = next(f["title"] for f in form["definition"]["fields"] if f["type"] == "opinion_scale")
    assert parse("typeform", body, {"score": {"title": title}}).score == 2


def test_survicate_question_answered_example_is_not_nps_and_an_nps_choice_is(fixture_bytes):
    body = json.loads(fixture_bytes("survicate/question_answered_docs_current.json"))
    with pytest.raises(NoNpsAnswerError):
        parse("survicate", json.dumps(body).encode())
    fragment = json.loads(fixture_bytes("survicate/nps_choice_fragment_PARTIAL.json"))
    body["event"]["questionAnswered"]["choice"] = {**fragment["choice"], "comment": "Fast support"}
    body["event"]["questionAnswered"]["respondent"]["attributes"] = [
        {"name": "email", "value": "ada@example.com"}, {"name": "contact_id", "value": "003AAA"}]  # fmt: skip
    r = parse("survicate", json.dumps(body).encode())
    assert (r.response_id, r.score, r.comment, r.email, r.contact_id) == (
        "survicate:3fa85f64-5717-4562-b3fc-2c963f66afa6", 9, "Fast support", "ada@example.com", "003AAA")  # fmt: skip
    # mapped by question id, the rating question of the example would be taken, and 21573 is no 0-10 score
    with pytest.raises(UnprocessableError):
        parse("survicate", fixture_bytes("survicate/question_answered_docs_current.json"), {"score": {"id": "12123"}})


@pytest.mark.parametrize("name", ["responseCreated_docs.json", "responseFinished_docs.json"])
def test_formbricks_docs_examples_hold_no_nps_answer(fixture_bytes, name):
    with pytest.raises(NoNpsAnswerError):
        parse("formbricks", fixture_bytes(f"formbricks/{name}"))


def test_formbricks_nps_answer_by_default_or_by_mapping(fixture_bytes):
    body = json.loads(fixture_bytes("formbricks/responseFinished_docs.json"))
    body["data"]["data"].update({"q_nps": 10, "q_why": "Great docs", "tp": "onboarding"})
    body["data"]["contactAttributes"] = {"email": "ada@example.com"}
    r = parse("formbricks", json.dumps(body).encode(), {"comment": {"id": "q_why"}, "hidden": {"touchpoint": "tp"}})
    assert (r.response_id, r.score, r.email, r.comment, r.touchpoint) == (
        "formbricks:responseId", 10, "ada@example.com", "Great docs", "onboarding")  # fmt: skip
    assert r.updated_at == datetime(2025, 7, 24, 7, 47, 56, 116000, tzinfo=UTC)
    body["data"]["data"]["q_rating"] = 4
    with pytest.raises(UnprocessableError, match="name it"):  # two candidates: never a guess
        parse("formbricks", json.dumps(body).encode())
    assert parse("formbricks", json.dumps(body).encode(), {"score": {"id": "q_nps"}}).score == 10


def test_jotform_real_multipart_holds_no_nps_answer_and_a_scale_answer_is_found(fixture_bytes):
    body = fixture_bytes("jotform/submission_zulip_fixture.multipart")
    with pytest.raises(NoNpsAnswerError):
        parse("jotform", body, content_type=JOTFORM_TYPE)
    raw = json.loads(fixture_bytes("jotform/submission_zulip_fixture.rawRequest.json"))
    assert raw["q35_grade"] == "12"  # an integer answer outside 0-10 is no candidate
    raw.update(
        {"q40_howLikely": "9", "q41_email": "ada@example.com", "q42_comments": "Good tutor", "q43_contact_id": "003AAA"}
    )
    original = fixture_bytes("jotform/submission_zulip_fixture.rawRequest.json").decode()
    changed = body.replace(original.encode(), json.dumps(raw).encode())
    crlf = changed.replace(b"\n", b"\r\n")
    for content in (changed, crlf):
        r = parse("jotform", content, content_type=JOTFORM_TYPE)
        assert (r.response_id, r.score, r.email, r.comment, r.contact_id) == (
            "jotform:6084250982513018472", 9, "ada@example.com", "Good tutor", "003AAA")  # fmt: skip
        assert r.attributes == {"form_id": "243231271343446"}


def test_trustmary_answer_values():
    body = {"answer": {"survey_id": "tmetCfXyD", "survey_name": "Survey Name", "answer_id": "1lwBnVbM4",
                       "created_at": "2026-11-01T10:00:00Z",
                       "answer_values": {"nps": 3, "comment": "Slow", "email": "ada@example.com"},
                       "contact": {"contact_id": "003AAA", "touchpoint": "support"}}}  # fmt: skip
    r = parse("trustmary", json.dumps(body).encode())
    assert (r.response_id, r.score, r.comment, r.email, r.contact_id, r.touchpoint) == (
        "trustmary:1lwBnVbM4", 3, "Slow", "ada@example.com", "003AAA", "support")  # fmt: skip


def test_trustmary_partial_example_is_malformed(fixture_bytes):
    with pytest.raises(MalformedPayloadError):
        parse("trustmary", fixture_bytes("trustmary/survey_answer_example_PARTIAL.txt"))


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("webhooks_by_zapier_post_json_docs.json", "application/json"),
     ("webhooks_by_zapier_post_form_docs.form.txt", "application/x-www-form-urlencoded")],
)  # fmt: skip
def test_zapier_docs_examples_have_no_score_and_a_mapped_zap_has(fixture_bytes, name, content_type):
    body = fixture_bytes(f"zapier/{name}")
    with pytest.raises(NoNpsAnswerError):
        parse("zapier", body, content_type=content_type)
    with pytest.raises(UnprocessableError, match="age"):  # mapped to the wrong key: 27 is no score
        parse("zapier", body, {"score": {"id": "age"}}, content_type=content_type)


def test_zapier_text_values_and_content_identity():
    form = b"score=9&email=ada%40example.com&comment=Nice&touchpoint=web&first_name=Ada"
    r = parse("zapier", form, content_type="application/x-www-form-urlencoded")
    assert (r.score, r.email, r.comment, r.touchpoint) == (9, "ada@example.com", "Nice", "web")
    assert r.attributes == {"first_name": "Ada"}
    again = parse("zapier", form, content_type="application/x-www-form-urlencoded")
    assert again.response_id == r.response_id  # an Autoreplay is the same response
    assert parse("zapier", b'{"response_id": 7, "score": "10"}').response_id == "zapier:7"
    for bad in (b'{"score": "9.5"}', b'{"score": "11"}', b'{"score": 9.0}', b'{"score": "nine"}'):
        with pytest.raises(UnprocessableError):
            parse("zapier", bad)


def test_surveymonkey_delivery_is_a_fetch_job_and_other_events_are_ignored(fixture_bytes):
    body = fixture_bytes("surveymonkey/response_completed_filter_survey.json")
    job = adapter("surveymonkey").parse(delivery("surveymonkey", body))
    assert isinstance(job, FetchJob)
    assert (job.response_id, job.ids) == ("surveymonkey:123456", {"survey_id": "123456789", "response_id": "123456"})
    other = json.loads(body)
    other["event_type"] = "collector_created"
    with pytest.raises(NoNpsAnswerError):
        adapter("surveymonkey").parse(delivery("surveymonkey", json.dumps(other).encode()))


def typeform_answer(number, ref=None):
    field = {"id": "q1", "type": "opinion_scale", **({"ref": ref} if ref else {})}
    return {"form_response": {"token": "t", "answers": [{"type": "number", "number": number, "field": field}]}}


def test_no_score_is_ignored_and_a_bad_score_is_422_naming_the_question():
    for body in ({"form_response": {"token": "t", "answers": []}}, typeform_answer(None)):
        with pytest.raises(NoNpsAnswerError):
            parse("typeform", json.dumps(body).encode())
    for value in (11, -1, 7.5, "7", True):
        with pytest.raises(UnprocessableError) as err:
            parse("typeform", json.dumps(typeform_answer(value, ref="nps")).encode())
        assert err.value.field == "score" and "nps" in err.value.message


def test_mapping_names_unknown_fields_and_selectors_need_a_key():
    from npsloop.errors import ConfigurationError
    from npsloop.mapping import MappingDocument

    doc = MappingDocument({"typeform": {"score": {}}, "tally": {"hidden": {"colour": "x"}}, "zapier": {"scroe": {}}})
    for source in ("typeform", "tally", "zapier"):
        with pytest.raises(ConfigurationError, match=source):
            doc.for_source(source)
    assert doc.for_source("jotform") is None
