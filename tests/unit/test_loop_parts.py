"""The loop's pure parts: signed tokens, hook target checks, backoff, routing, the thank-you text, SES feedback."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from npsloop import tokens
from npsloop.email_feedback import opt_outs, unwrap
from npsloop.hooks import targets
from npsloop.hooks.delivery import backoff
from npsloop.hooks.payload import flat, webhook_id
from npsloop.models import CanonicalResponse, ScoredEvent
from npsloop.notify import followup, routing
from npsloop.notify.config import AlertRule, FollowUpConfig, HooksConfig, NotifyConfig


def scored(score, **fields):
    r = CanonicalResponse(response_id="generic:1", source="generic", score=score, **fields)
    return ScoredEvent(revision=1, received_at=datetime(2026, 5, 1, tzinfo=UTC), response=r, category=r.category)


# --- tokens ---------------------------------------------------------------------------------------------------
def test_a_token_round_trips_and_refuses_tampering_other_purposes_other_keys_and_expiry():
    token = tokens.sign({"email": "a@b.example"}, "key", purpose="unsubscribe", ttl=timedelta(hours=1), now=1000)
    assert tokens.verify(token, "key", purpose="unsubscribe", now=2000) == {"email": "a@b.example"}
    body, mac = token.split(".")
    forged = tokens._b64(json.dumps({"email": "x@b.example", "exp": 99999}).encode()) + "." + mac
    for bad, kwargs in [(forged, {}), (token, {"purpose": "answer"}), (token + "x", {}), ("", {}), ("abc", {})]:
        with pytest.raises(tokens.TokenError):
            tokens.verify(bad, "key", **{"purpose": "unsubscribe", "now": 2000, **kwargs})
    with pytest.raises(tokens.TokenError, match="another|not valid"):
        tokens.verify(token, "other-key", purpose="unsubscribe", now=2000)
    with pytest.raises(tokens.TokenError, match="expired"):
        tokens.verify(token, "key", purpose="unsubscribe", now=1000 + 3601)


# --- targets --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("address, ok", [
    ("52.1.2.3", True), ("2600:1f18::1", True), ("127.0.0.1", False), ("10.0.0.1", False), ("172.16.0.1", False),
    ("192.168.0.1", False), ("169.254.169.254", False), ("100.64.0.1", False), ("0.0.0.0", False),
    ("224.0.0.1", False), ("::1", False), ("fe80::1", False), ("fd00:ec2::254", False), ("::ffff:10.0.0.1", False),
    ("::ffff:52.1.2.3", True), ("2002:0a00:0001::", False),
])  # fmt: skip
def test_only_public_addresses_pass(address, ok):
    assert targets.public(address) is ok


def test_targets_keep_host_port_and_path_and_check_every_resolved_address():
    target = targets.parse("https://hooks.zapier.com/hooks/catch/1/abc/?x=1")
    assert (target.host, target.port, target.path, target.host_header) == (
        "hooks.zapier.com",
        443,
        "/hooks/catch/1/abc/?x=1",
        "hooks.zapier.com",
    )
    assert targets.resolve(target, resolver=lambda h, p: ["52.1.2.3"]) == "52.1.2.3"
    with pytest.raises(targets.UnsafeTargetError):
        targets.resolve(target, resolver=lambda h, p: ["52.1.2.3", "127.0.0.1"])
    with pytest.raises(targets.UnsafeTargetError, match="does not resolve"):
        targets.resolve(target, resolver=lambda h, p: [])
    loop = targets.parse("http://127.0.0.1:8000/x", allow_loopback=True)
    assert targets.resolve(loop, allow_loopback=True) == "127.0.0.1"
    with pytest.raises(targets.UnsafeTargetError):
        targets.parse("http://127.0.0.1:8000/x")


def test_backoff_doubles_from_the_base_up_to_the_cap():
    config = HooksConfig(retry_base_seconds=5, max_delay_seconds=3600)
    assert [backoff(n, config) for n in (1, 2, 3, 4, 12, 30)] == [5, 10, 20, 40, 3600, 3600]


def test_payload_is_flat_with_a_stable_id_and_webhook_ids_are_stable():
    payload = flat(scored(3, attributes={"Plan Tier": "pro"}), "Promoter")
    assert payload["id"] == "generic:1" and payload["turned_detractor"] is True
    assert payload["attribute_plan_tier"] == "pro"
    assert all(not isinstance(v, dict | list) for v in payload.values())
    assert webhook_id("sub_1", "generic:1", "response.created") == webhook_id("sub_1", "generic:1", "response.created")
    assert webhook_id("sub_1", "generic:1", "response.created") != webhook_id("sub_2", "generic:1", "response.created")


# --- routing and the thank-you ----------------------------------------------------------------------------------
def test_rules_match_on_category_touchpoint_and_account():
    rules = [AlertRule(channel="slack"), AlertRule(channel="teams", touchpoints=["support"]),
             AlertRule(channel="email", categories=["turned_detractor"], accounts=["001000000000001AAA"]),
             AlertRule(channel="email", categories=["promoter"])]  # fmt: skip
    assert set(routing.route(scored(2, touchpoint="sales"), False, rules)) == {"slack"}
    assert set(routing.route(scored(2, touchpoint="support"), False, rules)) == {"slack", "teams"}
    assert set(routing.route(scored(2), True, rules, account_id="001000000000001")) == {"slack", "email"}
    assert set(routing.route(scored(10), False, rules)) == {"email"}
    assert NotifyConfig(slack_webhook_url="https://x").alert_rules() == [AlertRule(channel="slack")]


@pytest.mark.parametrize("locale, lang", [("de", "de"), ("de-AT", "de"), ("de_CH", "de"), ("en-GB", "en"),
                                          (None, "en"), ("fr", "en")])  # fmt: skip
def test_language_follows_the_locale(locale, lang):
    assert followup.language(locale) == lang


def test_the_thank_you_has_text_and_html_an_unsubscribe_link_and_a_review_link_only_when_given():
    event = scored(10, email="ada@example.com", name="Ada <b>", locale="en")
    mail = followup.compose(event, FollowUpConfig(company="Acme"), "https://x/unsubscribe?token=t", None)
    assert mail.to == ("ada@example.com",) and "Hello Ada <b>," in mail.text and "Ada &lt;b&gt;" in mail.html
    assert "https://x/unsubscribe?token=t" in mail.text and 'href="https://x/unsubscribe?token=t"' in mail.html
    assert dict(mail.headers) == {"List-Unsubscribe": "<https://x/unsubscribe?token=t>",
                                  "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}  # fmt: skip
    assert "review" not in mail.text.lower()
    mail = followup.compose(event, FollowUpConfig(), "https://x/u", "https://g.page/r")
    assert "https://g.page/r" in mail.text and 'href="https://g.page/r"' in mail.html


def test_consent_by_attribute_or_salesforce_field():
    config = FollowUpConfig()
    assert followup.has_consent(scored(10, attributes={"marketing_consent": "Yes"}), config)
    assert not followup.has_consent(scored(10, attributes={"marketing_consent": "no"}), config)
    assert not followup.has_consent(scored(10), config, salesforce_consent=True)
    field = FollowUpConfig(consent={"attribute": None, "salesforce_field": "Consent__c"})
    assert followup.has_consent(scored(10), field, salesforce_consent=True)


# --- SES feedback ---------------------------------------------------------------------------------------------
def test_permanent_bounces_and_complaints_opt_out_transient_bounces_do_not():
    bounce = {
        "notificationType": "Bounce",
        "bounce": {"bounceType": "Permanent", "bouncedRecipients": [{"emailAddress": "a@x.example"}]},
    }
    assert opt_outs(bounce) == [("a@x.example", "bounce")]
    assert opt_outs({**bounce, "bounce": {**bounce["bounce"], "bounceType": "Transient"}}) == []
    complaint = {"eventType": "Complaint", "complaint": {"complainedRecipients": [{"emailAddress": "b@x.example"}]}}
    assert opt_outs(complaint) == [("b@x.example", "complaint")]
    assert opt_outs({"notificationType": "Delivery"}) == []
    sns = json.dumps({"Type": "Notification", "Message": json.dumps(complaint)})
    assert unwrap(sns) == complaint and unwrap(json.dumps(complaint)) == complaint
