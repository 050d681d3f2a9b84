"""The promoter thank-you: German or English by the response's locale, HTML and plain text, an unsubscribe link,
and a review-request link only when review requests are on and the respondent consented to marketing."""

from __future__ import annotations

import html
from datetime import timedelta

from npsloop import tokens
from npsloop.models import ScoredEvent
from npsloop.notify.config import FollowUpConfig
from npsloop.notify.email import Mail

UNSUBSCRIBE_PURPOSE = "unsubscribe"
UNSUBSCRIBE_TTL = timedelta(days=365)

TEMPLATES = {
    "en": {
        "subject": "Thank you for your feedback",
        "greeting": "Hello {name},", "anonymous": "Hello,",
        "body": "thank you for rating us {score} out of 10. It means a lot to {company} to hear that you would "
                "recommend us.",
        "review": "Would you share your experience in a short review? {url}", "review_label": "Write a review",
        "closing": "Best regards,\n{company}",
        "unsubscribe": "Don't want emails like this? Unsubscribe: {url}", "unsubscribe_label": "Unsubscribe",
    },
    "de": {
        "subject": "Vielen Dank für Ihr Feedback",
        "greeting": "Hallo {name},", "anonymous": "Hallo,",
        "body": "vielen Dank, dass Sie uns mit {score} von 10 bewertet haben. Es bedeutet {company} viel, dass Sie "
                "uns weiterempfehlen würden.",
        "review": "Möchten Sie Ihre Erfahrung in einer kurzen Bewertung teilen? {url}",
        "review_label": "Bewertung schreiben",
        "closing": "Viele Grüße\n{company}",
        "unsubscribe": "Sie möchten keine solchen E-Mails mehr erhalten? Abmelden: {url}",
        "unsubscribe_label": "Abmelden",
    },
}  # fmt: skip


def language(locale: str | None) -> str:
    """`de`, `de-AT`, `de_CH` ... are German; everything else gets English."""
    return "de" if (locale or "").lower().replace("_", "-").split("-")[0] == "de" else "en"


def has_consent(event: ScoredEvent, config: FollowUpConfig, salesforce_consent: bool | None = None) -> bool:
    rule = config.consent
    if rule.attribute:
        value = event.response.attributes.get(rule.attribute)
        if value is not None and value.strip().lower() in {v.lower() for v in rule.values}:
            return True
    return bool(rule.salesforce_field and salesforce_consent)


def unsubscribe_url(public_url: str, email: str, key: str, lang: str) -> str:
    token = tokens.sign({"email": email, "lang": lang}, key, purpose=UNSUBSCRIBE_PURPOSE, ttl=UNSUBSCRIBE_TTL)
    return f"{public_url.rstrip('/')}/unsubscribe/{token}"


def unsubscribe_headers(url: str) -> tuple[tuple[str, str], ...]:
    """RFC 2369 / RFC 8058 headers: mail clients offer unsubscribe, and one POST to the URL opts out."""
    return (("List-Unsubscribe", f"<{url}>"), ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))


def compose(event: ScoredEvent, config: FollowUpConfig, unsubscribe: str, review_url: str | None) -> Mail:
    r = event.response
    assert r.email  # noqa: S101 (callers only compose for respondents with an address)
    t = TEMPLATES[language(r.locale)]
    company = config.company
    greeting = t["greeting"].format(name=r.name) if r.name else t["anonymous"]
    body = t["body"].format(score=r.score, company=company)
    closing = t["closing"].format(company=company)
    lines = [greeting, "", body]
    if review_url:
        lines += ["", t["review"].format(url=review_url)]
    lines += ["", closing, "", "--", t["unsubscribe"].format(url=unsubscribe)]
    e = html.escape
    parts = [f"<p>{e(greeting)}</p>", f"<p>{e(body)}</p>"]
    if review_url:
        parts.append(f'<p><a href="{e(review_url)}">{e(t["review_label"])}</a></p>')
    parts.append("<p>" + e(closing).replace("\n", "<br>") + "</p>")
    parts.append(f'<hr><p style="font-size:small"><a href="{e(unsubscribe)}">{e(t["unsubscribe_label"])}</a></p>')
    document = f'<!doctype html><html lang="{language(r.locale)}"><body>{"".join(parts)}</body></html>'
    return Mail((r.email,), t["subject"], "\n".join(lines), document, unsubscribe_headers(unsubscribe))
