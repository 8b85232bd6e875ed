"""The site's RSS feeds as a source of article URLs (the article page stays the authority)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from lxml import etree

from spacewar_crawler.reading.dateline import parse_feed_date
from spacewar_crawler.reading.page_text import normalize_space
from spacewar_crawler.site.urls import SiteUrls


class MalformedFeed(ValueError):
    """The document is not an RSS or Atom feed."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published: datetime | None


def _text(element: etree._Element, *names: str) -> str | None:
    for name in names:
        found = element.find(name)
        if found is not None and (found.text or "").strip():
            return normalize_space(found.text or "")
    return None


def feed_entries(content: bytes, feed_url: str) -> list[FeedEntry]:
    """The entries of an RSS 2.0 (or Atom) feed, links made absolute and canonical."""
    urls = SiteUrls(feed_url)
    try:
        root = etree.fromstring(content, parser=etree.XMLParser(recover=False, resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise MalformedFeed(f"not XML: {exc}") from None
    atom = "{http://www.w3.org/2005/Atom}"
    items = root.findall("./channel/item") or root.findall(f"{atom}entry")
    if root.tag not in ("rss", f"{atom}feed", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"):
        raise MalformedFeed(f"unexpected root element <{root.tag}>")
    entries: list[FeedEntry] = []
    for item in items:
        link = _text(item, "link", "guid")
        if link is None:
            atom_link = item.find(f"{atom}link")
            link = atom_link.get("href") if atom_link is not None else None
        absolute = urls.absolute(link, feed_url) if link else None
        if absolute is None:
            continue
        date_text = _text(item, "pubDate", f"{atom}published", f"{atom}updated")
        entries.append(
            FeedEntry(
                url=urls.canonical(absolute),
                title=_text(item, "title", f"{atom}title"),
                published=parse_feed_date(date_text) if date_text else None,
            )
        )
    return entries
