"""Survey invitations, pure parts: answer tokens, the email, the scanner rule, the pages, the `email` source."""

import email
import json
import time
from datetime import UTC, datetime, timedelta
from email.policy import default as default_policy

import pytest

from npsloop import tokens
from npsloop.errors import SignatureError, UnprocessableError
from npsloop.notify.config import SurveysConfig
from npsloop.notify.email import mime
from npsloop.secrets import AppSecret
from npsloop.sources import adapter
from npsloop.sources.base import Delivery
from npsloop.stores.surveys import Click
from npsloop.surveys import links, pages
from npsloop.surveys.answer import decide
from npsloop.surveys.mail import compose

KEY = "unit-survey-key"
T0 = datetime(2026, 11, 22, 10, 0, tzinfo=UTC)
INVITATION = links.Invitation(email="ada@example.com", name="Ada", touchpoint="support", locale="de-AT",
                              contact_id="003000000000001AAA", context={"case": "500A", "priority": 2},
                              survey_id="abcdefgh1234")  # fmt: skip


def at(seconds, score):
    return Click(T0 + timedelta(seconds=seconds), score)


@pytest.mark.parametrize(("clicks", "click", "expected"), [
    ([at(0, 7)], at(0, 7), "record"),                                              # one person, one click
    ([at(0, 7), at(1, 7)], at(0, 7), "superseded"),                                # a double click: the later wins
    ([at(0, 7), at(1, 7)], at(1, 7), "record"),
    ([at(0, 7), at(3, 9)], at(3, 9), "record"),                                    # changed their mind at once
    ([at(i * 0.15, i) for i in range(11)], at(0.15 * 10, 10), "burst"),            # a scanner opened every link
    ([at(i * 0.15, i) for i in range(11)], at(0, 0), "burst"),
    ([at(0, 0), at(0.1, 1), at(0.2, 2)], at(0.1, 1), "burst"),                     # three scores at once
    ([*(at(i * 0.15, i) for i in range(11)), at(12, 3)], at(12, 3), "record"),     # the person, after the scanner
    ([at(0, 4), at(60, 8)], at(0, 4), "record"),                                   # far apart: both count, in order
])  # fmt: skip
def test_the_scanner_rule(clicks, click, expected):
    assert decide(clicks, click) == expected


def test_an_answer_token_carries_the_invitation_and_any_changed_character_breaks_it():
    token = links.answer_token(INVITATION, KEY, timedelta(days=30))
    assert links.read(token, KEY) == INVITATION
    for i in range(0, len(token), 7):
        if token[i] == ".":
            continue
        changed = token[:i] + ("A" if token[i] != "A" else "B") + token[i + 1 :]
        with pytest.raises(tokens.TokenError):
            links.read(changed, KEY)
    with pytest.raises(tokens.TokenError):  # an unsubscribe token is not an answer token
        links.read(tokens.sign({"email": "ada@example.com"}, KEY, purpose="unsubscribe", ttl=timedelta(days=1)), KEY)
    old = tokens.sign(INVITATION.model_dump(), KEY, purpose=links.SURVEY_PURPOSE, ttl=timedelta(days=1),
                      now=time.time() - 86400 * 3)  # fmt: skip
    with pytest.raises(tokens.TokenExpiredError):
        links.read(old, KEY)


def test_the_email_in_german_has_eleven_answer_links_labels_unsubscribe_and_rfc8058_headers():
    mail = compose(INVITATION, SurveysConfig(company="Acme"), "https://nps.acme.example/", KEY)
    assert mail.to == ("ada@example.com",) and mail.subject == "Wie wahrscheinlich empfehlen Sie Acme weiter?"
    parsed = email.message_from_bytes(mime(mail, "Acme <nps@acme.example>"), policy=default_policy)
    html = parsed.get_body(("html",)).get_content()
    text = parsed.get_body(("plain",)).get_content()
    answer_links = [h.replace("&amp;", "&") for h in html.split('href="')[1:] if "/r/" in h.split('"')[0]]
    answer_links = [h.split('"')[0] for h in answer_links]
    assert [link.rsplit("score=", 1)[1] for link in answer_links] == [str(n) for n in range(11)]
    assert all(link.startswith("https://nps.acme.example/r/") and link in text for link in answer_links)
    assert "0 = sehr unwahrscheinlich" in html and "10 = äußerst wahrscheinlich" in html and "Hallo Ada" in text
    assert "<script" not in html and "<img" not in html and 'lang="de"' in html
    unsubscribe = parsed["List-Unsubscribe"]
    assert unsubscribe.startswith("<https://nps.acme.example/unsubscribe/") and unsubscribe[1:-1] in html
    assert parsed["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    english = compose(INVITATION.model_copy(update={"locale": None, "name": None}), SurveysConfig(company="Acme"),
                      "https://nps.acme.example", KEY)  # fmt: skip
    assert english.subject == "How likely are you to recommend Acme?" and english.text.startswith("Hello,")


def test_the_email_source_verifies_the_token_and_maps_the_invitation_to_one_response():
    token = links.answer_token(INVITATION, KEY, timedelta(days=30))
    source = adapter("email")
    secret = AppSecret.model_validate({"notify": {"token_key": KEY}}).source("email")

    def delivery(body):
        return Delivery("email", json.dumps(body).encode(), {"content-type": "application/json"}, T0)

    source.verify(delivery({"token": token, "score": 9}), secret)
    response = source.parse(delivery({"token": token, "score": 9, "comment": "Gut"}))
    assert (response.response_id, response.source, response.score, response.comment) == ("email:abcdefgh1234",
                                                                                          "email", 9, "Gut")
    assert (response.email, response.touchpoint, response.locale) == ("ada@example.com", "support", "de-AT")
    assert response.attributes == {"case": "500A", "priority": "2"}
    for bad in ({"token": token[:-2] + "xx", "score": 9}, {"score": 9}, {"token": 5, "score": 9}):
        with pytest.raises(SignatureError):
            source.verify(delivery(bad), secret)
    with pytest.raises(UnprocessableError) as refused:
        source.parse(delivery({"token": token, "score": 11}))
    assert refused.value.field == "score"


def test_recipients_are_checked_field_by_field():
    assert links.Recipient.model_validate({"email": " Ada@Example.com "}).email == "Ada@Example.com"
    for bad in ({"email": "nope"}, {}, {"email": "a@b.example", "extra": 1},
                {"email": "a@b.example", "context": {str(i): i for i in range(21)}},
                {"email": "a@b.example", "context": {"k": {"nested": 1}}}):  # fmt: skip
        with pytest.raises(ValueError):
            links.Recipient.model_validate(bad)


def test_pages_are_self_contained_and_in_the_reader_s_language():
    for page in (pages.thanks("de", 7, 5000), pages.saved("en"), pages.expired("de"), pages.bad_score("en"),
                 pages.invalid()):  # fmt: skip
        assert "<script" not in page and "http" not in page.replace('content="width', "")
        assert page.startswith("<!doctype html><html lang=")
    thanks = pages.thanks("de", 7, 5000)
    assert "Ihre Antwort: 7 von 10." in thanks and '<label for="comment">' in thanks and 'value="7"' in thanks
    assert "Umfrage ist beendet" in pages.expired("de")
