"""The survey invitation: German or English by the recipient's locale, HTML and plain text, eleven answer buttons
0 to 10 that are plain links (no script, no image: they work in every common mail client, Outlook included, since
each button is a table cell with a bgcolor and a styled link), labels at both ends, an unsubscribe link and the
RFC 8058 `List-Unsubscribe` / `List-Unsubscribe-Post` headers. The one reminder is the same message with its own
subject and a first line saying so; its links carry the same invitation, so an answer updates the same response."""

from __future__ import annotations

import html
from datetime import timedelta

from npsloop.notify import followup
from npsloop.notify.config import SurveysConfig
from npsloop.notify.email import Mail
from npsloop.surveys.links import Invitation, answer_token, answer_url

SCORES = range(11)
BUTTON = "#1d4f91"  # white on this blue: contrast 8.6:1

TEMPLATES = {
    "en": {
        "subject": "How likely are you to recommend {company}?",
        "question": "How likely are you to recommend {company} to a friend or colleague?",
        "low": "0 = not at all likely", "high": "10 = extremely likely",
        "hint": "One click on a number records your answer. You can add a comment on the next page.",
        "closing": "Thank you,\n{company}",
        "reminder_subject": "Reminder: how likely are you to recommend {company}?",
        "reminder_intro": "A few days ago we asked for your opinion. If you have a moment, one click is all it takes.",
    },
    "de": {
        "subject": "Wie wahrscheinlich empfehlen Sie {company} weiter?",
        "question": "Wie wahrscheinlich ist es, dass Sie {company} einem Freund oder Kollegen empfehlen?",
        "low": "0 = sehr unwahrscheinlich", "high": "10 = äußerst wahrscheinlich",
        "hint": "Ein Klick auf eine Zahl speichert Ihre Antwort. Auf der nächsten Seite können Sie einen Kommentar "
                "hinzufügen.",
        "closing": "Vielen Dank\n{company}",
        "reminder_subject": "Erinnerung: Wie wahrscheinlich empfehlen Sie {company} weiter?",
        "reminder_intro": "Vor ein paar Tagen haben wir Sie um Ihre Meinung gebeten. Wenn Sie einen Moment Zeit haben: "
                          "Ein Klick genügt.",
    },
}  # fmt: skip


def compose(invitation: Invitation, config: SurveysConfig, public_url: str, key: str, *,
            reminder: bool = False) -> Mail:  # fmt: skip
    lang = followup.language(invitation.locale)
    t, shared = TEMPLATES[lang], followup.TEMPLATES[lang]
    token = answer_token(invitation, key, timedelta(days=config.link_days))
    links = [answer_url(public_url, token, score) for score in SCORES]
    unsubscribe = followup.unsubscribe_url(public_url, invitation.email, key, lang)
    greeting = shared["greeting"].format(name=invitation.name) if invitation.name else shared["anonymous"]
    question = t["question"].format(company=config.company)
    closing = t["closing"].format(company=config.company)
    intro = [t["reminder_intro"], ""] if reminder else []

    text = "\n".join([greeting, "", *intro, question, f"({t['low']}, {t['high']})", "",
                      *(f"{score}: {link}" for score, link in zip(SCORES, links, strict=True)), "", t["hint"], "",
                      closing, "", "--", shared["unsubscribe"].format(url=unsubscribe)])  # fmt: skip

    e = html.escape
    cells = "".join(
        f'<td bgcolor="{BUTTON}" align="center" style="background:{BUTTON};border-radius:4px;border:2px solid #fff">'
        f'<a href="{e(link)}" title="{score}/10" style="display:block;min-width:26px;padding:10px 4px;color:#ffffff;'
        f'font:bold 16px Arial,Helvetica,sans-serif;text-decoration:none">{score}</a></td>'
        for score, link in zip(SCORES, links, strict=True)
    )
    scale = (f'<table role="presentation" cellpadding="0" cellspacing="0" border="0" style="border-collapse:separate">'
             f'<tr>{cells}</tr><tr style="font:13px Arial,Helvetica,sans-serif;color:#4a4a4a">'
             f'<td colspan="6" align="left" style="padding-top:4px">{e(t["low"])}</td>'
             f'<td colspan="5" align="right" style="padding-top:4px">{e(t["high"])}</td></tr></table>')  # fmt: skip
    first = f'<p>{e(t["reminder_intro"])}</p>' if reminder else ""
    body = (f'<p>{e(greeting)}</p>{first}<p style="font-size:18px;font-weight:bold">{e(question)}</p>{scale}'
            f'<p style="color:#4a4a4a">{e(t["hint"])}</p><p>{e(closing).replace(chr(10), "<br>")}</p>'
            f'<hr><p style="font-size:small"><a href="{e(unsubscribe)}">{e(shared["unsubscribe_label"])}</a></p>')
    document = (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"></head>'
                f'<body style="font:16px Arial,Helvetica,sans-serif;color:#1a1a1a">{body}</body></html>')  # fmt: skip
    subject = t["reminder_subject" if reminder else "subject"].format(company=config.company)
    return Mail((invitation.email,), subject, text, document, followup.unsubscribe_headers(unsubscribe))
