"""What a page says of itself in structured data: JSON-LD (schema.org NewsArticle and kin), as WordPress and its SEO
plugins print it.

Structured data is a claim, read beside what a reader sees: the headline it names must also be printed on the
page to be used as the title, and the byline and dateline inside the text win over it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from lxml import etree

from spacewar_crawler.reading.page_text import element_text, normalize_space

logger = logging.getLogger(__name__)

ARTICLE_TYPES = frozenset(
    {"Article", "NewsArticle", "ReportageNewsArticle", "AnalysisNewsArticle", "BlogPosting", "Report", "TechArticle"}
)


@dataclass(frozen=True)
class StructuredArticle:
    """The fields of the page's article node; None where it names none."""

    headline: str | None = None
    author: str | None = None
    published: str | None = None
    """As printed (ISO 8601, with the site's own offset)."""
    modified: str | None = None
    section: str | None = None


def structured_article(root: etree._Element) -> StructuredArticle | None:
    """The page's JSON-LD article (the first node of an article type, `@graph` and lists included), or None."""
    nodes = list(_nodes(root))
    by_id = {node["@id"]: node for node in nodes if isinstance(node.get("@id"), str)}
    for node in nodes:
        if ARTICLE_TYPES & set(_types(node)):
            return StructuredArticle(
                headline=_text(node.get("headline") or node.get("name")),
                author=_author(node.get("author"), by_id),
                published=_text(node.get("datePublished")),
                modified=_text(node.get("dateModified")),
                section=_text(_first(node.get("articleSection"))),
            )
    return None


def _nodes(root: etree._Element) -> Iterator[dict[str, Any]]:
    for script in root.iter("script"):  # a page has a few: faster than an XPath over every element
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        try:
            data = json.loads(element_text(script))
        except ValueError:  # a broken block says nothing; the page is read without it
            logger.debug("Unreadable JSON-LD block skipped")
            continue
        pending = [data]
        while pending:
            value = pending.pop(0)
            if isinstance(value, list):
                pending.extend(value)
            elif isinstance(value, dict):
                yield value
                graph = value.get("@graph")
                if isinstance(graph, list):
                    pending.extend(graph)


def _types(node: dict[str, Any]) -> list[str]:
    kind = node.get("@type")
    return [k for k in (kind if isinstance(kind, list) else [kind]) if isinstance(k, str)]


def _first(value: Any) -> Any:
    return value[0] if isinstance(value, list) and value else value


def _text(value: Any) -> str | None:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return normalize_space(str(value)) or None
    return None


def _author(value: Any, by_id: dict[str, dict[str, Any]]) -> str | None:
    """Author names, joined as a byline prints them ("A and B"); a reference (`{"@id": ...}`) is followed."""
    names = []
    for entry in value if isinstance(value, list) else [value]:
        if isinstance(entry, dict) and "name" not in entry and isinstance(entry.get("@id"), str):
            entry = by_id.get(entry["@id"], {})
        name = _text(entry.get("name")) if isinstance(entry, dict) else _text(entry)
        if name and not name.startswith("http"):
            names.append(name)
    return " and ".join(names) if names else None


def calendar_date(value: str | None) -> date | None:
    """The calendar date of an ISO 8601 time as the site printed it, in its own zone ("2026-02-03T00:30:00+10:00"
    is February 3, whatever the UTC date)."""
    if not value:
        return None
    try:
        return datetime.fromisoformat(value.strip().replace("Z", "+00:00")).date()
    except ValueError:
        return None
