"""The site's RSS feeds as a source of article URLs (the article page stays the authority)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lxml import etree

from spacewar_crawler.reading.dateline import parse_dateline, parse_feed_date, split_leading_dateline
from spacewar_crawler.reading.page_text import normalize_space
from spacewar_crawler.site.urls import SiteUrls


class MalformedFeed(ValueError):
    """The document is not an RSS or Atom feed."""


@dataclass(frozen=True)
class FeedEntry:
    url: str
    title: str | None
    published: date | None
    """The article's date: the item's pubDate in the feed's own zone, or the dateline its description opens with."""


@dataclass(frozen=True)
class Feed:
    entries: list[FeedEntry]
    recovered: bool
    """The XML was broken and read with recovery: what it held up to the break."""


def _text(element: etree._Element, *names: str) -> str | None:
    for name in names:
        found = element.find(name)
        if found is not None and (found.text or "").strip():
            return normalize_space(found.text or "")
    return None


def _parse(content: bytes) -> tuple[etree._Element, bool]:
    strict = etree.XMLParser(recover=False, resolve_entities=False, no_network=True)
    try:
        return etree.fromstring(content, parser=strict), False
    except etree.XMLSyntaxError as exc:
        lenient = etree.XMLParser(recover=True, resolve_entities=False, no_network=True)
        root = etree.fromstring(content, parser=lenient) if content.strip() else None
        if root is None:
            raise MalformedFeed(f"not XML: {exc}") from None
        return root, True


def _dateline_date(description: str | None) -> date | None:
    """The date of the dateline a description opens with ("Beijing (AFP) May 15, 2025 China said ...")."""
    if not description:
        return None
    text = normalize_space(re.sub(r"<[^>]*>", " ", description))
    lead = split_leading_dateline(text)
    dateline = lead[0] if lead else parse_dateline(text)
    return dateline.date if dateline else None


def feed_entries(content: bytes, feed_url: str) -> Feed:
    """The entries of an RSS 2.0 (or Atom) feed, links made absolute and canonical.

    Real feeds stamp every item with the feed's build time: a pubDate that all items share is no article date, and
    the date then comes from the dateline the description opens with.
    """
    urls = SiteUrls(feed_url)
    root, recovered = _parse(content)
    atom = "{http://www.w3.org/2005/Atom}"
    if root.tag not in ("rss", f"{atom}feed", "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}RDF"):
        raise MalformedFeed(f"unexpected root element <{root.tag}>")
    items = root.findall("./channel/item") or root.findall(f"{atom}entry")
    stamps = [_text(item, "pubDate", f"{atom}published", f"{atom}updated") for item in items]
    build_time = len(items) > 1 and len(set(stamps)) == 1
    entries: list[FeedEntry] = []
    for item, stamp in zip(items, stamps, strict=True):
        link = _text(item, "link", "guid")
        if link is None:
            atom_link = item.find(f"{atom}link")
            link = atom_link.get("href") if atom_link is not None else None
        absolute = urls.absolute(link, feed_url) if link else None
        if absolute is None:
            continue
        stamped = parse_feed_date(stamp) if stamp and not build_time else None
        published = stamped.date() if stamped else _dateline_date(_text(item, "description", f"{atom}summary"))
        entries.append(FeedEntry(urls.canonical(absolute), _text(item, "title", f"{atom}title"), published))
    return Feed(entries, recovered)
