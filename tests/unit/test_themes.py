"""Comment themes from the keyword taxonomy, German and English, and its configuration."""

import pytest

from npsloop.analysis.service import Analyzer
from npsloop.analysis.themes import Taxonomy, TaxonomyError, guess_language
from npsloop.models import CanonicalResponse


@pytest.mark.parametrize(
    ("comment", "themes"),
    [
        ("Der Support war langsam und teuer", ["price", "support"]),
        ("great onboarding", ["onboarding"]),
        ("Die Lieferzeit war zu lang, der Jahrespreis zu hoch", ["price", "delivery"]),
        ("The app crashes and customer   service never answers", ["support", "product_quality"]),
        ("Kundenservice top, aber die Bedienung ist umständlich", ["support", "usability"]),
        ("superb", []),
        ("", []),
        (None, []),
    ],
)
def test_default_taxonomy_finds_german_and_english_themes(comment, themes):
    assert Taxonomy.configured().themes_of(comment) == themes


def test_a_keyword_matches_at_the_start_of_a_word_unless_it_starts_with_a_star():
    taxonomy = Taxonomy({"price": {"keywords": ["cost", "*preis"]}})
    assert taxonomy.themes_of("costs too much") == ["price"]
    assert taxonomy.themes_of("it was low-cost") == ["price"]
    assert taxonomy.themes_of("accost") == []
    assert taxonomy.themes_of("Der Jahrespreis") == ["price"]


def test_configuration_replaces_adds_and_removes_themes():
    taxonomy = Taxonomy.configured(
        '{"billing": {"label": {"en": "Billing", "de": "Abrechnung"}, "keywords": ["invoice", "rechnung"]},'
        ' "delivery": null, "price": {"keywords": ["pricey"]}}'
    )
    assert "delivery" not in taxonomy.themes
    assert taxonomy.themes_of("pricey invoice") == ["price", "billing"]
    assert taxonomy.themes_of("expensive") == []
    assert taxonomy.label("billing", "de") == "Abrechnung"
    only = Taxonomy.configured({"replace": True, "themes": {"speed": {"keywords": ["slow", "langsam"]}}})
    assert list(only.themes) == ["speed"] and only.themes_of("Der Support war langsam") == ["speed"]


@pytest.mark.parametrize(
    "bad", ['{"Price!": {"keywords": ["x"]}}', '{"price": {"keywords": []}}', "[1]", "{not json", '{"a": 3}']
)
def test_a_taxonomy_that_cannot_be_used_is_refused_with_a_reason(bad):
    with pytest.raises(TaxonomyError):
        Taxonomy.configured(bad)


def test_language_from_the_locale_else_from_common_words():
    assert guess_language("great onboarding") == "en"
    assert guess_language("Der Support war langsam und teuer") == "de"
    assert guess_language("great", "de-AT") == "de"


class FakeSentiment:
    def __init__(self):
        self.calls = []

    def detect(self, texts):
        self.calls.append(list(texts))
        return ["NEGATIVE" if "teuer" in t else "POSITIVE" for _, t in texts]


def response(rid, comment, locale=None):
    return CanonicalResponse(response_id=f"generic:{rid}", source="generic", score=5, comment=comment, locale=locale)


def test_analyzer_asks_for_sentiment_only_for_comments_and_only_when_enabled():
    responses = [response("a", "Der Support war langsam und teuer"), response("b", None), response("c", "great")]
    assert Analyzer(Taxonomy.configured()).analyze(responses)["generic:a"].sentiment is None
    sentiment = FakeSentiment()
    found = Analyzer(Taxonomy.configured(), sentiment).analyze(responses)
    assert sentiment.calls == [[("de", "Der Support war langsam und teuer"), ("en", "great")]]
    assert found["generic:a"].themes == ("price", "support") and found["generic:a"].sentiment == "NEGATIVE"
    assert found["generic:b"].sentiment is None and found["generic:c"].sentiment == "POSITIVE"
