"""The pages behind the answer links, German or English: thank-you with an optional comment box, comment saved,
link not valid (403), survey closed (expired), and a score that is not 0 to 10."""

from __future__ import annotations

import html

from npsloop.pages import html_page

TEXT = {
    "en": {
        "thanks_title": "Thank you!", "thanks": "Your answer: {score} out of 10.",
        "comment_label": "Would you like to tell us why? (optional)", "send": "Send comment",
        "change": "Clicked the wrong number? Click another one in the email: your latest answer counts.",
        "saved_title": "Thank you for your comment", "saved": "We have received your answer and your comment.",
        "expired_title": "This survey has closed", "expired": "Thank you for your interest. This link is no "
                                                              "longer open for answers.",
        "score_title": "Please choose a number", "score": "Please use one of the numbers 0 to 10 in the email.",
    },
    "de": {
        "thanks_title": "Vielen Dank!", "thanks": "Ihre Antwort: {score} von 10.",
        "comment_label": "Möchten Sie uns sagen, warum? (optional)", "send": "Kommentar senden",
        "change": "Versehentlich eine andere Zahl gewählt? Klicken Sie in der E-Mail auf eine andere: Ihre letzte "
                  "Antwort zählt.",
        "saved_title": "Vielen Dank für Ihren Kommentar", "saved": "Wir haben Ihre Antwort und Ihren Kommentar "
                                                                   "erhalten.",
        "expired_title": "Diese Umfrage ist beendet", "expired": "Vielen Dank für Ihr Interesse. Über diesen Link "
                                                                 "sind keine Antworten mehr möglich.",
        "score_title": "Bitte wählen Sie eine Zahl", "score": "Bitte nutzen Sie eine der Zahlen 0 bis 10 in der "
                                                              "E-Mail.",
    },
}  # fmt: skip
INVALID = {"en": ("Link not valid", "This link is not valid. Please use the link from your email unchanged."),
           "de": ("Link ungültig", "Dieser Link ist ungültig. Bitte nutzen Sie den Link aus Ihrer E-Mail unverändert.")}


def thanks(lang: str, score: int, max_comment: int) -> str:
    t = TEXT[lang]
    form = (f'<form method="post"><input type="hidden" name="score" value="{score}">'
            f'<label for="comment">{html.escape(t["comment_label"])}</label>'
            f'<textarea id="comment" name="comment" maxlength="{max_comment}" rows="5"></textarea>'
            f'<p><button type="submit">{html.escape(t["send"])}</button></p></form>')  # fmt: skip
    return html_page(lang, t["thanks_title"], f'<p role="status">{html.escape(t["thanks"].format(score=score))}</p>'
                                              f'{form}<p class="note">{html.escape(t["change"])}</p>')  # fmt: skip


def saved(lang: str) -> str:
    return html_page(lang, TEXT[lang]["saved_title"], f'<p role="status">{html.escape(TEXT[lang]["saved"])}</p>')


def expired(lang: str) -> str:
    return html_page(lang, TEXT[lang]["expired_title"], f"<p>{html.escape(TEXT[lang]['expired'])}</p>")


def bad_score(lang: str) -> str:
    return html_page(lang, TEXT[lang]["score_title"], f"<p>{html.escape(TEXT[lang]['score'])}</p>")


def invalid() -> str:
    """In both languages: a link that is not genuine tells us nothing about its reader."""
    (title, en), (_, de) = INVALID["en"], INVALID["de"]
    return html_page("en", title, f'<p>{html.escape(en)}</p><p lang="de">{html.escape(de)}</p>')
