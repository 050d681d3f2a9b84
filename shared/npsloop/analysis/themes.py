"""Themes of a comment from a keyword taxonomy, and a guess of its language (pure)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property

from npsloop.analysis.taxonomy import DEFAULT_TAXONOMY

_THEME_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_WORDS = re.compile(r"[^\W\d_]+", re.UNICODE)
_GERMAN = frozenset("der die das und ist war nicht sehr mit für auf ein eine einen zu zum zur sie ich wir es "
                    "aber auch noch schon gut schlecht leider immer".split())  # fmt: skip
_ENGLISH = frozenset("the and is was not very with for on a an to it i we you but also still good bad "
                     "great always never really".split())  # fmt: skip


class TaxonomyError(ValueError):
    """The configured taxonomy cannot be used; the message says which theme and why."""


def _pattern(keyword: str) -> str:
    inside = keyword.startswith("*")
    words = keyword.lstrip("*").casefold().split()
    body = r"\s+".join(re.escape(w) for w in words)
    return body if inside else rf"(?<!\w){body}"


@dataclass(frozen=True)
class Theme:
    id: str
    labels: Mapping[str, str]
    keywords: tuple[str, ...]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels.get("en") or self.id


class Taxonomy:
    """Themes by id; a comment has every theme one of whose keywords it contains."""

    def __init__(self, themes: Mapping[str, Mapping]):
        self.themes: dict[str, Theme] = {}
        for theme_id, spec in themes.items():
            if not _THEME_ID.match(theme_id):
                raise TaxonomyError(f"theme id {theme_id!r} must be lower case letters, digits and _ (at most 40)")
            keywords = tuple(k for k in (spec.get("keywords") or []) if isinstance(k, str) and k.strip("* "))
            if not keywords:
                raise TaxonomyError(f"theme {theme_id!r} has no keywords")
            labels = spec.get("label") or {}
            self.themes[theme_id] = Theme(theme_id, labels if isinstance(labels, Mapping) else {"en": str(labels)},
                                          keywords)  # fmt: skip

    @classmethod
    def configured(cls, override: str | Mapping | None = None) -> Taxonomy:
        """The default taxonomy with `override` (JSON or a mapping) laid over it: a theme given replaces the
        default of the same id, a new id adds a theme, null removes one; {"replace": true, "themes": {...}}
        starts from nothing instead."""
        if isinstance(override, str):
            try:
                override = json.loads(override) if override.strip() else None
            except ValueError as exc:
                raise TaxonomyError(f"the theme taxonomy is not JSON: {exc}") from None
        if override is not None and not isinstance(override, Mapping):
            raise TaxonomyError("the theme taxonomy must be a JSON object of themes")
        themes: dict[str, Mapping] = dict(DEFAULT_TAXONOMY)
        if override:
            if override.get("replace") is True:
                themes, override = {}, override.get("themes") or {}
            for theme_id, spec in override.items():
                if spec is None:
                    themes.pop(theme_id, None)
                elif isinstance(spec, Mapping):
                    themes[theme_id] = spec
                else:
                    raise TaxonomyError(f"theme {theme_id!r} must be an object with keywords, or null")
        return cls(themes)

    @cached_property
    def _matchers(self) -> list[tuple[str, re.Pattern[str]]]:
        return [(t.id, re.compile("|".join(_pattern(k) for k in t.keywords))) for t in self.themes.values()]

    def themes_of(self, comment: str | None) -> list[str]:
        """The ids of the themes the comment touches, in taxonomy order; none for an empty comment."""
        if not comment:
            return []
        text = comment.casefold()
        return [theme_id for theme_id, matcher in self._matchers if matcher.search(text)]

    def label(self, theme_id: str, language: str = "en") -> str:
        theme = self.themes.get(theme_id)
        return theme.label(language) if theme else theme_id


def guess_language(text: str | None, locale: str | None = None) -> str:
    """ "de" or "en": the respondent's locale when it names one of them, else the language of more common words."""
    if locale and locale[:2].lower() in ("de", "en"):
        return locale[:2].lower()
    words = _WORDS.findall((text or "").casefold())
    german = sum(w in _GERMAN for w in words) + sum(ch in "äöüß" for ch in (text or "").casefold())
    english = sum(w in _ENGLISH for w in words)
    return "de" if german > english else "en"
