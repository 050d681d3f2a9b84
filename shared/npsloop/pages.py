"""The small HTML pages behind links in npsloop's emails (unsubscribe, survey answers): one accessible shell, inline
styles only, no scripts, fonts or other external resources, and the headers every such page is served with."""

from __future__ import annotations

import html

PAGE_HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                               "frame-ancestors 'none'; base-uri 'none'",
}  # fmt: skip

STYLE = (
    "body{font:17px/1.5 system-ui,-apple-system,'Segoe UI',Roboto,Arial,sans-serif;color:#1a1a1a;background:#f6f7f9;"
    "margin:0}main{max-width:36rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;"
    "box-shadow:0 1px 3px rgba(0,0,0,.15)}h1{font-size:1.6rem;margin-top:0}"
    "button{font:inherit;padding:.6rem 1.2rem;border:0;border-radius:6px;background:#1d4f91;color:#fff;cursor:pointer}"
    "button:focus,textarea:focus{outline:3px solid #f5a623;outline-offset:2px}"
    "textarea{font:inherit;width:100%;box-sizing:border-box;min-height:7rem;padding:.5rem;border:1px solid #6b6b6b;"
    "border-radius:6px}label{display:block;font-weight:600;margin:1rem 0 .4rem}.note{color:#4a4a4a;font-size:.95rem}"
)


def html_page(lang: str, title: str, body: str) -> str:
    """A complete page: `title` (escaped here) as its title and heading, `body` as ready HTML."""
    t = html.escape(title)
    return (f'<!doctype html><html lang="{html.escape(lang)}"><head><meta charset="utf-8"><title>{t}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style></head>'
            f"<body><main><h1>{t}</h1>{body}</main></body></html>")  # fmt: skip
