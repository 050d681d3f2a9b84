"""The unsubscribe page behind the links in npsloop's emails (`/unsubscribe/{token}`): GET shows a confirm button,
POST opts the address out.

GET never changes anything, because mail scanners open links; POST is the button and also RFC 8058 one-click
(`List-Unsubscribe-Post`). The link's token is signed (npsloop.tokens, purpose "unsubscribe") and carries the
address and the page's language.
"""

from __future__ import annotations

import html

from npsloop import tokens
from npsloop.notify.followup import UNSUBSCRIBE_PURPOSE
from npsloop.pages import html_page
from npsloop.stores.optouts import OptOutStore

PAGES = {
    "en": {"confirm_title": "Unsubscribe", "confirm": "Stop emails like this to {email}?", "button": "Unsubscribe",
           "done_title": "Unsubscribed", "done": "{email} will get no more emails like this.",
           "invalid_title": "Link not valid", "invalid": "This link is not valid or has expired."},
    "de": {"confirm_title": "Abmelden", "confirm": "Keine solchen E-Mails mehr an {email} senden?",
           "button": "Abmelden", "done_title": "Abgemeldet",
           "done": "{email} erhält keine solchen E-Mails mehr.",
           "invalid_title": "Link ungültig", "invalid": "Dieser Link ist ungültig oder abgelaufen."},
}  # fmt: skip


def page(token: str | None, key: str, *, confirm: bool, optouts: OptOutStore) -> tuple[int, str]:
    """(status, HTML) for GET (confirm=False) or POST (confirm=True)."""
    try:
        payload = tokens.verify(token, key, purpose=UNSUBSCRIBE_PURPOSE)
        email = str(payload["email"])
    except (tokens.TokenError, KeyError):
        t = PAGES["en"]
        return 400, html_page("en", t["invalid_title"], f"<p>{t['invalid']}</p><p>{PAGES['de']['invalid']}</p>")
    lang = payload.get("lang") if payload.get("lang") in PAGES else "en"
    t = PAGES[lang]
    shown = html.escape(email)
    if not confirm:
        # posts back to the page's own URL: /unsubscribe/{token}, or /unsubscribe?token= for links sent before
        form = (f'<form method="post"><p>{t["confirm"].format(email=shown)}'
                f'</p><button type="submit">{t["button"]}</button></form>')  # fmt: skip
        return 200, html_page(lang, t["confirm_title"], form)
    optouts.add(email, "unsubscribed")
    return 200, html_page(lang, t["done_title"], f"<p>{t['done'].format(email=shown)}</p>")
