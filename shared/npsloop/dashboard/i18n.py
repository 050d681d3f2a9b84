"""The dashboard's words in English and German."""

from __future__ import annotations

LANGUAGES = ("en", "de")

TEXT: dict[str, dict[str, str]] = {
    "en": {
        "title": "Net Promoter Score", "nps": "NPS", "responses": "Responses", "promoters": "Promoters",
        "passives": "Passives", "detractors": "Detractors", "margin": "95% margin of error",
        "trend": "NPS by {period} with its 95% confidence band",
        "mix": "Promoters, passives and detractors by {period}", "histogram": "Scores 0-10",
        "themes_detractors": "Top themes among detractors", "themes_promoters": "Top themes among promoters",
        "latest": "Latest detractor comments", "no_comments": "No detractor comments in this range.",
        "no_themes": "No themes found.", "no_data": "no responses",
        "significant_up": "significant rise", "significant_down": "significant fall",
        "segment": "Segment", "value": "Value", "period": "Period", "from": "From", "to": "To", "show": "Show",
        "language": "Language", "sentiment": "Sentiment", "sentiment_unavailable": "unavailable",
        "legend_band": "95% confidence band", "legend_significant": "significant change from the period before",
        "login_title": "npsloop dashboard", "login_prompt": "Enter an API key to open the dashboard.",
        "api_key": "API key", "open": "Open", "login_failed": "That key is not valid.",
        "day": "day", "week": "week", "month": "month", "quarter": "quarter",
        "all": "all", "overall": "overall", "source": "source", "touchpoint": "touchpoint", "account": "account",
        "campaign": "campaign", "score": "Score", "change": "change",
    },
    "de": {
        "title": "Net Promoter Score", "nps": "NPS", "responses": "Antworten", "promoters": "Promotoren",
        "passives": "Passive", "detractors": "Kritiker", "margin": "95-%-Fehlermarge",
        "trend": "NPS je {period} mit 95-%-Konfidenzband",
        "mix": "Promotoren, Passive und Kritiker je {period}", "histogram": "Bewertungen 0-10",
        "themes_detractors": "Häufigste Themen der Kritiker", "themes_promoters": "Häufigste Themen der Promotoren",
        "latest": "Neueste Kommentare von Kritikern", "no_comments": "Keine Kommentare von Kritikern im Zeitraum.",
        "no_themes": "Keine Themen gefunden.", "no_data": "keine Antworten",
        "significant_up": "signifikanter Anstieg", "significant_down": "signifikanter Rückgang",
        "segment": "Segment", "value": "Wert", "period": "Zeitraum", "from": "Von", "to": "Bis", "show": "Anzeigen",
        "language": "Sprache", "sentiment": "Stimmung", "sentiment_unavailable": "nicht verfügbar",
        "legend_band": "95-%-Konfidenzband", "legend_significant": "signifikante Änderung zum Vorzeitraum",
        "login_title": "npsloop-Dashboard", "login_prompt": "Geben Sie einen API-Schlüssel ein, um das Dashboard "
        "zu öffnen.", "api_key": "API-Schlüssel", "open": "Öffnen", "login_failed": "Dieser Schlüssel ist ungültig.",
        "day": "Tag", "week": "Woche", "month": "Monat", "quarter": "Quartal",
        "all": "alle", "overall": "gesamt", "source": "Quelle", "touchpoint": "Kontaktpunkt", "account": "Account",
        "campaign": "Kampagne", "score": "Bewertung", "change": "Änderung",
    },
}  # fmt: skip


def language(requested: str | None, accept_language: str | None) -> str:
    """?lang= when it names a language we have, else the first of ours in Accept-Language, else English."""
    if requested in LANGUAGES:
        return requested  # type: ignore[return-value]
    for part in (accept_language or "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in LANGUAGES:
            return code
    return "en"


def number(value: float | None, lang: str, digits: int = 1, sign: bool = False) -> str:
    if value is None:
        return "–"
    text = f"{value:+.{digits}f}" if sign else f"{value:.{digits}f}"
    text = text.replace("-", "−")
    return text.replace(".", ",") if lang == "de" else text
