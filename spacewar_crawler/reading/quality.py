"""Extraction quality: the warnings an article carries, a run's figures per layout, and the drift alarm.

A parser that goes wrong on a redesigned page rarely fails: it stores articles with no byline
or no dateline. These figures make that visible, and the drift alarm compares them with the
archive's recent runs, so a run says when extraction degrades.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from spacewar_crawler.reading.layouts import UNKNOWN as UNKNOWN_LAYOUT

LAYOUT_UNKNOWN = "layout_unknown"
NO_BYLINE = "no_byline"
NO_DATELINE = "no_dateline"
NO_DATE = "no_date"
DATE_FROM_FALLBACK = "date_from_fallback"
NO_SECTION = "no_section"
BODY_STARTS_WITH_HEADLINE = "body_starts_with_headline"
HEADER_IN_BODY = "header_in_body"
SHORT_BODY = "short_body"
ORIGINAL_NOT_KEPT = "original_not_kept"
CANONICAL_ELSEWHERE = "canonical_elsewhere"
WARNINGS = {
    LAYOUT_UNKNOWN: "the page matched no known layout and was read by the generic path",
    NO_BYLINE: "no byline found",
    NO_DATELINE: "no dateline found",
    NO_DATE: "no date at all (dateline, page or feed)",
    DATE_FROM_FALLBACK: "the date comes from the page's meta or header, or a feed, not from a dateline",
    NO_SECTION: "no section label, meta or listing",
    BODY_STARTS_WITH_HEADLINE: "the body's first paragraph starts with the headline",
    HEADER_IN_BODY: "the body's first paragraph reads like a dateline or byline",
    SHORT_BODY: "the body is under 300 characters",
    CANONICAL_ELSEWHERE: "the page's rel=canonical names another page: not followed, the fetched URL is kept",
    ORIGINAL_NOT_KEPT: "WARC was on but the fetched page could not be written (a full disk): no original to re-read",
}
# The figures of a run, each the share (in percent) of its new and changed articles that have it.
FIGURES = ("author", "dateline", "images")
ALL_LAYOUTS = "all"


@dataclass(frozen=True)
class ArticleQuality:
    """What a run keeps of each article it wrote, to compute its figures."""

    url: str
    layout: str
    author: bool
    dateline: bool
    images: bool

    @classmethod
    def of(cls, item: Mapping[str, Any]) -> ArticleQuality:
        return cls(
            url=item["url"],
            layout=item.get("layout") or UNKNOWN_LAYOUT,
            author=bool(item.get("author")),
            dateline=bool(item.get("dateline")),
            images=bool(item.get("images")),
        )


@dataclass(frozen=True)
class DriftAlarm:
    figure: str
    layout: str
    share: float
    median: float
    examples: list[str]

    def message(self) -> str:
        return (
            f"Extraction drift: {self.figure} share {self.share:.0f}% for layout {self.layout}, against a median of "
            f"{self.median:.0f}% over recent runs; for example {', '.join(self.examples)}"
        )

    def as_document(self) -> dict[str, Any]:
        return {
            "figure": self.figure,
            "layout": self.layout,
            "share": self.share,
            "median": self.median,
            "examples": self.examples,
        }


@dataclass
class RunQuality:
    """A run's figures per layout (and over all layouts), from the articles it stored new or changed."""

    articles: dict[str, list[ArticleQuality]] = field(default_factory=dict)

    @classmethod
    def of(cls, written: Iterable[ArticleQuality]) -> RunQuality:
        quality = cls()
        for article in written:
            quality.articles.setdefault(article.layout, []).append(article)
            quality.articles.setdefault(ALL_LAYOUTS, []).append(article)
        return quality

    def figures(self) -> dict[str, dict[str, float]]:
        """{layout: {"articles": N, "author": %, "dateline": %, "images": %}}, as kept in `crawl_runs`."""
        return {
            layout: {"articles": len(group), **{name: _share(group, name) for name in FIGURES}}
            for layout, group in sorted(self.articles.items())
        }

    @property
    def unknown_layout(self) -> int:
        return len(self.articles.get(UNKNOWN_LAYOUT, []))

    def drift(
        self, history: Sequence[Mapping[str, Mapping[str, float]]], *, runs: int, min_articles: int, points: float
    ) -> list[DriftAlarm]:
        """Figures more than `points` under the median of the last `runs` runs (newest first in `history`) that
        had at least `min_articles` articles of that layout; only layouts with `min_articles` in this run."""
        alarms: list[DriftAlarm] = []
        for layout, figures in self.figures().items():
            if figures["articles"] < min_articles:
                continue
            past = [run[layout] for run in history if run.get(layout, {}).get("articles", 0) >= min_articles][:runs]
            if not past:
                continue
            for name in FIGURES:
                median = statistics.median(run[name] for run in past)
                if figures[name] < median - points:
                    examples = [a.url for a in self.articles[layout] if not getattr(a, name)][:3]
                    alarms.append(DriftAlarm(name, layout, figures[name], median, examples))
        return alarms


def _share(group: list[ArticleQuality], name: str) -> float:
    return round(100.0 * sum(getattr(a, name) for a in group) / len(group), 1)
