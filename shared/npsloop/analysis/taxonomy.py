"""The default theme taxonomy: English and German keywords per theme (override or extend it by configuration)."""

from __future__ import annotations

# A keyword matches at the start of a word ("teuer" matches "teuer", "teuersten"); a keyword starting with "*"
# matches inside a word too, for German compounds ("*preis" matches "Jahrespreis"); spaces match any white space.
# Keep every default keyword unambiguous: "slow" or "langsam" says nothing about which part was slow.
DEFAULT_TAXONOMY: dict[str, dict] = {
    "price": {
        "label": {"en": "Price", "de": "Preis"},
        "keywords": [
            "price", "prices", "pricing", "expensive", "cheap", "cost", "costs", "costly", "fee", "fees", "overpriced",
            "value for money", "billing", "subscription",
            "*preis", "teuer", "teur", "billig", "günstig", "guenstig", "kosten", "*kosten", "gebühr", "gebuehr",
            "rechnung", "abo",
        ],
    },
    "support": {
        "label": {"en": "Support", "de": "Support"},
        "keywords": [
            "*support", "customer service", "helpdesk", "help desk", "service desk", "hotline", "agent", "agents",
            "ticket", "tickets", "response time",
            "kundendienst", "*kundenservice", "kundenbetreuung", "ansprechpartner", "erreichbar", "servicemitarbeiter",
        ],
    },
    "product_quality": {
        "label": {"en": "Product quality", "de": "Produktqualität"},
        "keywords": [
            "quality", "bug", "bugs", "buggy", "broken", "crash", "crashes", "defect", "defective", "reliable",
            "unreliable", "stable", "unstable",
            "*qualität", "*qualitaet", "*fehler", "kaputt", "defekt", "absturz", "abstürze", "stürzt", "zuverlässig",
            "zuverlaessig", "mangelhaft",
        ],
    },
    "delivery": {
        "label": {"en": "Delivery", "de": "Lieferung"},
        "keywords": [
            "delivery", "delivered", "deliver", "shipping", "shipped", "shipment", "parcel", "package", "courier",
            "*liefer", "versand", "verschickt", "paket", "zustellung", "zugestellt",
        ],
    },
    "onboarding": {
        "label": {"en": "Onboarding", "de": "Onboarding"},
        "keywords": [
            "*onboarding", "setup", "set up", "getting started", "implementation", "training", "tutorial",
            "einrichtung", "eingerichtet", "einarbeitung", "schulung", "inbetriebnahme", "einführung",
        ],
    },
    "usability": {
        "label": {"en": "Usability", "de": "Bedienbarkeit"},
        "keywords": [
            "usability", "easy to use", "intuitive", "user friendly", "user-friendly", "confusing", "complicated",
            "interface", "navigation", "ux",
            "benutzerfreundlich", "*bedien", "übersichtlich", "unübersichtlich", "kompliziert", "umständlich",
            "intuitiv", "oberfläche",
        ],
    },
    "features": {
        "label": {"en": "Features", "de": "Funktionen"},
        "keywords": [
            "feature", "features", "functionality", "missing", "integration", "integrations",
            "funktion", "funktionen", "funktionsumfang", "fehlt", "fehlen", "schnittstelle",
        ],
    },
}  # fmt: skip
