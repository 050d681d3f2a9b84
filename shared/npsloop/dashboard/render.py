"""The dashboard page and its login form as HTML; the charts as inline SVG drawn here (pure)."""
# ruff: noqa: E501 (markup reads better on one line than cut at 120 columns)

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from urllib.parse import urlencode

from npsloop.aggregation import OVERALL_VALUE, PERIODS
from npsloop.analysis.service import UNAVAILABLE
from npsloop.analysis.themes import Taxonomy
from npsloop.dashboard.i18n import TEXT, number
from npsloop.export import mask_emails
from npsloop.reports import Report
from npsloop.stores.scored import ScoredRow

PROMOTER, PASSIVE, DETRACTOR = "#1b9e5a", "#b8bcc2", "#d8412f"
LINE, BAND = "#1f5fa8", "#cfe0f5"
CSP = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; base-uri 'none'; "
       "frame-ancestors 'none'")  # fmt: skip

STYLE = """
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,Helvetica,Arial,
sans-serif;color:#1d2430;background:#f4f6f9}header{background:#fff;border-bottom:1px solid #dde2ea;padding:14px 28px}
h1{font-size:20px;margin:0 0 10px}h2{font-size:15px;margin:0 0 10px;color:#3a4556}main{padding:20px 28px;
display:grid;grid-template-columns:repeat(2,minmax(0,1fr));gap:18px;max-width:1280px}
.card{background:#fff;border:1px solid #dde2ea;border-radius:10px;padding:16px 18px}.wide{grid-column:1/-1}
form.filters{display:flex;flex-wrap:wrap;gap:10px;align-items:end}form.filters label{display:flex;
flex-direction:column;font-size:12px;color:#5a6475}input,select,button{font:inherit;padding:5px 8px;
border:1px solid #c4ccd8;border-radius:6px;background:#fff}button{background:#1f5fa8;color:#fff;border:0;
padding:6px 14px;cursor:pointer}.kpis{display:flex;gap:28px;flex-wrap:wrap}.kpi .v{font-size:30px;font-weight:650}
.kpi .l{font-size:12px;color:#5a6475}.kpi .m{font-size:13px;color:#5a6475}svg{display:block;width:100%;height:auto}
svg text{font:12px system-ui,sans-serif;fill:#4a5567}.legend{font-size:12px;color:#5a6475;display:flex;gap:16px;
flex-wrap:wrap;margin-top:6px}.sw{display:inline-block;width:12px;height:12px;border-radius:2px;
vertical-align:-1px;margin-right:5px}.theme{display:grid;grid-template-columns:150px 1fr 40px;gap:8px;
align-items:center;margin:5px 0}.bar{height:14px;border-radius:3px}.num{text-align:right;color:#5a6475}
ol.comments{list-style:none;padding:0;margin:0}ol.comments li{border-top:1px solid #edf0f4;padding:10px 0}
.meta{font-size:12px;color:#5a6475}.chip{display:inline-block;background:#eef2f8;border-radius:10px;
padding:0 8px;font-size:12px;margin-right:4px}.score{display:inline-block;min-width:24px;text-align:center;
color:#fff;background:#d8412f;border-radius:5px;font-weight:650;margin-right:8px}.empty{color:#5a6475}
@media (max-width:900px){main{grid-template-columns:1fr}}
"""


def _page(title: str, lang: str, body: str) -> str:
    return (f'<!doctype html><html lang="{lang}"><head><meta charset="utf-8"><meta name="viewport" '
            f'content="width=device-width,initial-scale=1"><title>{escape(title)}</title>'
            f'<style>{STYLE}</style></head><body>{body}</body></html>')  # fmt: skip


def login_page(lang: str, failed: bool = False) -> str:
    t = TEXT[lang]
    error = f'<p role="alert" style="color:#d8412f">{t["login_failed"]}</p>' if failed else ""
    return _page(t["login_title"], lang, (
        f'<main><section class="card" style="max-width:420px"><h1>{t["login_title"]}</h1><p>{t["login_prompt"]}</p>'
        f'{error}<form method="post" action="/dashboard?lang={lang}"><label>{t["api_key"]}<br>'
        f'<input type="password" name="key" autocomplete="off" required style="width:100%"></label>'
        f'<p><button type="submit">{t["open"]}</button></p></form></section></main>'))  # fmt: skip


def dashboard_page(report: Report, comments: Sequence[ScoredRow], taxonomy: Taxonomy, lang: str,
                   segments: Sequence[str], sentiment_enabled: bool) -> str:  # fmt: skip
    t = TEXT[lang]
    q = report.query
    period_word = t[q.period]
    total = report.total()
    share = lambda n: None if not total.responses else 100 * n / total.responses  # noqa: E731
    kpis = (
        f'<div class="kpis"><div class="kpi"><div class="v" data-testid="nps">{number(total.nps, lang)}</div>'
        f'<div class="m">± {number(total.margin, lang)} ({t["margin"]})</div><div class="l">{t["nps"]}</div></div>'
        f'<div class="kpi"><div class="v">{total.responses}</div><div class="l">{t["responses"]}</div></div>'
        f'<div class="kpi"><div class="v" style="color:{PROMOTER}">{number(share(total.promoters), lang, 0)} %</div>'
        f'<div class="l">{t["promoters"]}</div></div>'
        f'<div class="kpi"><div class="v" style="color:{DETRACTOR}">{number(share(total.detractors), lang, 0)} %'
        f'</div><div class="l">{t["detractors"]}</div></div></div>'
    )  # fmt: skip
    segment_label = t.get(q.segment, q.segment)
    value_label = t["all"] if q.segment == "overall" else (q.value or "")
    header = (f'<header><h1>{t["title"]} · {escape(segment_label)}: {escape(value_label)} · '
              f'{q.first} – {q.last}</h1>{_filters(report, lang, segments)}</header>')  # fmt: skip
    cards = [
        f'<section class="card wide">{kpis}</section>',
        f'<section class="card wide"><h2>{t["trend"].format(period=period_word)}</h2>{trend_svg(report, lang)}'
        f'<div class="legend"><span><span class="sw" style="background:{BAND}"></span>{t["legend_band"]}</span>'
        f'<span><span class="sw" style="background:#fff;border:2px solid {LINE};border-radius:50%"></span>'
        f'{t["legend_significant"]}</span></div></section>',
        f'<section class="card wide"><h2>{t["mix"].format(period=period_word)}</h2>{mix_svg(report, lang)}'
        f'<div class="legend">' + "".join(f'<span><span class="sw" style="background:{c}"></span>{t[k]}</span>' for k, c
                                          in (("promoters", PROMOTER), ("passives", PASSIVE),
                                              ("detractors", DETRACTOR))) + "</div></section>",
        f'<section class="card"><h2>{t["histogram"]}</h2>{histogram_svg(report.histogram())}</section>',
        f'<section class="card"><h2>{t["themes_detractors"]}</h2>'
        f'{_themes(report.themes("detractors"), taxonomy, lang, DETRACTOR)}'
        f'<h2 style="margin-top:16px">{t["themes_promoters"]}</h2>'
        f'{_themes(report.themes("promoters"), taxonomy, lang, PROMOTER)}</section>',
        f'<section class="card wide"><h2>{t["latest"]}</h2>'
        f'{_comments(comments, taxonomy, lang, sentiment_enabled)}</section>',
    ]  # fmt: skip
    return _page(f"{t['title']} – npsloop", lang, header + "<main>" + "".join(cards) + "</main>")


def _filters(report: Report, lang: str, segments: Sequence[str]) -> str:
    t, q = TEXT[lang], report.query

    def options(values: Sequence[str], chosen: str) -> str:
        return "".join(f'<option value="{escape(v)}"{" selected" if v == chosen else ""}>{escape(t.get(v, v))}'
                       "</option>" for v in values)  # fmt: skip

    value = "" if q.segment == "overall" else (q.value or "")
    return (
        f'<form class="filters" method="get" action="/dashboard">'
        f'<label>{t["segment"]}<select name="segment">{options(segments, q.segment)}</select></label>'
        f'<label>{t["value"]}<input name="value" value="{escape(value)}" placeholder="{t["all"]}"></label>'
        f'<label>{t["period"]}<select name="period">{options(PERIODS, q.period)}</select></label>'
        f'<label>{t["from"]}<input type="date" name="from" value="{q.first}"></label>'
        f'<label>{t["to"]}<input type="date" name="to" value="{q.last}"></label>'
        f'<label>{t["language"]}<select name="lang">'
        f'<option value="en"{" selected" if lang == "en" else ""}>English</option>'
        f'<option value="de"{" selected" if lang == "de" else ""}>Deutsch</option></select></label>'
        f'<button type="submit">{t["show"]}</button></form>'
    )  # fmt: skip


# --- charts -----------------------------------------------------------------------------------------------------
W, H = 1000, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40


def _x(i: int, n: int) -> float:
    step = (W - LEFT - RIGHT) / max(n, 1)
    return LEFT + step * (i + 0.5)


def _ticks(n: int) -> set[int]:
    """Which period labels to print so they do not overlap (every one up to 16, then about 12)."""
    every = 1 if n <= 16 else -(-n // 12)
    return {i for i in range(n) if i % every == 0 or i == n - 1}


def trend_svg(report: Report, lang: str) -> str:
    t = TEXT[lang]
    rows = report.periods
    n = len(rows)
    values = [v for r in rows if r["nps"] is not None for v in (r["low"], r["high"])]
    lo = max(-100.0, min([*values, 0.0]) - 5)
    hi = min(100.0, max([*values, 0.0]) + 5)
    lo, hi = (lo - 10, hi + 10) if hi - lo < 20 else (lo, hi)
    lo, hi = max(lo, -100.0), min(hi, 100.0)

    def y(v: float) -> float:  # an interval beyond ±100 is drawn to the edge: the NPS cannot go further
        return TOP + (hi - max(lo, min(hi, v))) / (hi - lo) * (H - TOP - BOTTOM)

    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" aria-label="{escape(t["trend"].format(period=t[report.query.period]))}"'
             ' class="trend" xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    step = 10 if hi - lo <= 60 else 20 if hi - lo <= 120 else 25
    grid = int(lo // step) * step
    while grid <= hi:
        if grid >= lo:
            parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(grid):.1f}" y2="{y(grid):.1f}" '
                         f'stroke="{"#9aa5b5" if grid == 0 else "#e3e7ee"}" stroke-width="1"/>'
                         f'<text x="{LEFT - 8}" y="{y(grid) + 4:.1f}" text-anchor="end">{number(grid, lang, 0)}</text>')  # fmt: skip
        grid += step
    runs: list[list[int]] = []
    for i, r in enumerate(rows):
        if r["nps"] is None:
            continue
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    band, line = [], []
    for run in runs:
        half = (W - LEFT - RIGHT) / max(n, 1) * 0.18 if len(run) == 1 else 0  # a lone period gets a visible band
        upper = [(_x(i, n) + dx, y(rows[i]["high"])) for i in run for dx in ((-half, half) if half else (0,))]
        lower = [(_x(i, n) + dx, y(rows[i]["low"])) for i in reversed(run) for dx in ((half, -half) if half else (0,))]
        band.append("M" + " L".join(f"{px:.1f},{py:.1f}" for px, py in upper + lower) + " Z")
        line.append("M" + " L".join(f"{_x(i, n):.1f},{y(rows[i]['nps']):.1f}" for i in run))
    if band:
        parts.append(f'<path class="band" d="{" ".join(band)}" fill="{BAND}" stroke="none"/>')
        parts.append(f'<path class="line" d="{" ".join(line)}" fill="none" stroke="{LINE}" stroke-width="2.5" '
                     'stroke-linejoin="round"/>')  # fmt: skip
    ticks = _ticks(n)
    for i, r in enumerate(rows):
        x = _x(i, n)
        if r["nps"] is None:
            parts.append(f'<g class="point empty" data-period="{r["period"]}"><title>{r["period"]}: {t["no_data"]}'
                         f'</title><circle cx="{x:.1f}" cy="{H - BOTTOM - 4}" r="3" fill="#fff" stroke="#9aa5b5"/></g>')  # fmt: skip
        else:
            tip = (f'{r["period"]}: {t["nps"]} {number(r["nps"], lang)} ± {number(r["margin"], lang)}, '
                   f'n = {r["responses"]}')  # fmt: skip
            if r["change"] is not None:
                tip += f", {t['change']} {number(r['change'], lang, sign=True)}"
            cy = y(r["nps"])
            marker = ""
            if r["significant"]:
                up = r["change"] > 0
                tip += f" ({t['significant_up' if up else 'significant_down']})"
                marker = (f'<circle class="significant" cx="{x:.1f}" cy="{cy:.1f}" r="9" fill="none" stroke="{LINE}" '
                          f'stroke-width="2"/><text x="{x:.1f}" y="{cy - 14:.1f}" text-anchor="middle" '
                          f'style="fill:{PROMOTER if up else DETRACTOR};font-weight:700">{"▲" if up else "▼"}</text>')  # fmt: skip
            parts.append(f'<g class="point" data-period="{r["period"]}"><title>{escape(tip)}</title>{marker}'
                         f'<circle cx="{x:.1f}" cy="{cy:.1f}" r="4.5" fill="{LINE}" stroke="#fff" stroke-width="1.5"/></g>')  # fmt: skip
        if i in ticks:
            parts.append(f'<text x="{x:.1f}" y="{H - BOTTOM + 20}" text-anchor="middle">{r["period"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def mix_svg(report: Report, lang: str) -> str:
    t = TEXT[lang]
    rows = report.periods
    n = len(rows)
    width = (W - LEFT - RIGHT) / max(n, 1) * 0.7
    height = 220
    bottom = height - 30

    def y(share: float) -> float:
        return TOP + (1 - share) * (bottom - TOP)

    parts = [f'<svg viewBox="0 0 {W} {height}" role="img" class="mix" aria-label="{escape(t["mix"].format(period=t[report.query.period]))}" '
             'xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for share in (0, 0.5, 1):
        parts.append(f'<line x1="{LEFT}" x2="{W - RIGHT}" y1="{y(share):.1f}" y2="{y(share):.1f}" stroke="#e3e7ee"/>'
                     f'<text x="{LEFT - 8}" y="{y(share) + 4:.1f}" text-anchor="end">{int(share * 100)} %</text>')  # fmt: skip
    ticks = _ticks(n)
    for i, r in enumerate(rows):
        x = _x(i, n) - width / 2
        total = r["responses"]
        if total:
            level = 0.0
            for key, color in (("detractors", DETRACTOR), ("passives", PASSIVE), ("promoters", PROMOTER)):
                share = r[key] / total
                if share:
                    parts.append(f'<rect class="{key}" x="{x:.1f}" y="{y(level + share):.1f}" width="{width:.1f}" '
                                 f'height="{(bottom - TOP) * share:.1f}" fill="{color}"><title>{r["period"]}: '
                                 f'{t[key]} {r[key]} ({number(100 * share, lang, 0)} %)</title></rect>')  # fmt: skip
                level += share
        if i in ticks:
            parts.append(f'<text x="{_x(i, n):.1f}" y="{height - 10}" text-anchor="middle">{r["period"]}</text>')
    parts.append("</svg>")
    return "".join(parts)


def histogram_svg(counts: Sequence[int]) -> str:
    width, height, bottom = 480, 220, 190
    top = max(counts) if any(counts) else 1
    slot = (width - 20) / 11
    parts = [f'<svg viewBox="0 0 {width} {height}" role="img" class="histogram" aria-label="0-10" '
             'xmlns="http://www.w3.org/2000/svg">']  # fmt: skip
    for score, count in enumerate(counts):
        color = PROMOTER if score >= 9 else PASSIVE if score >= 7 else DETRACTOR
        h = (bottom - 20) * count / top
        x = 10 + slot * score + slot * 0.12
        parts.append(f'<rect class="score" x="{x:.1f}" y="{bottom - h:.1f}" width="{slot * 0.76:.1f}" height="{h:.1f}" '
                     f'fill="{color}" rx="2"><title>{score}: {count}</title></rect>'
                     f'<text x="{x + slot * 0.38:.1f}" y="{bottom - h - 4:.1f}" text-anchor="middle">{count}</text>'
                     f'<text x="{x + slot * 0.38:.1f}" y="{bottom + 18}" text-anchor="middle">{score}</text>')  # fmt: skip
    parts.append("</svg>")
    return "".join(parts)


def _themes(counts: list[tuple[str, int]], taxonomy: Taxonomy, lang: str, color: str) -> str:
    if not counts:
        return f'<p class="empty">{TEXT[lang]["no_themes"]}</p>'
    top = counts[0][1]
    return "".join(
        f'<div class="theme"><span>{escape(taxonomy.label(theme, lang))}</span><span class="bar" '
        f'style="width:{max(2, 100 * count / top):.0f}%;background:{color}"></span><span class="num">{count}</span></div>'
        for theme, count in counts[:8]
    )  # fmt: skip


def _comments(rows: Sequence[ScoredRow], taxonomy: Taxonomy, lang: str, sentiment_enabled: bool) -> str:
    t = TEXT[lang]
    if not rows:
        return f'<p class="empty">{t["no_comments"]}</p>'
    items = []
    for row in rows:
        r = row.response
        sentiment = (row.sentiment or "").lower() or (t["sentiment_unavailable"] if not sentiment_enabled else "–")
        if sentiment == UNAVAILABLE:
            sentiment = t["sentiment_unavailable"]
        meta = " · ".join(escape(v) for v in (row.period_at[:10], r.source, r.touchpoint or "",
                                              mask_emails(r.email) if r.email else "") if v)  # fmt: skip
        chips = "".join(f'<span class="chip">{escape(taxonomy.label(th, lang))}</span>' for th in row.themes)
        items.append(f'<li><span class="score">{r.score}</span>{escape(mask_emails(r.comment))}'
                     f'<div class="meta">{meta} · {t["sentiment"]}: {escape(sentiment)} {chips}</div></li>')  # fmt: skip
    return f'<ol class="comments">{"".join(items)}</ol>'


def dashboard_url(params: dict[str, str]) -> str:
    return "/dashboard?" + urlencode({k: v for k, v in params.items() if v and v != OVERALL_VALUE})
