"""Page objects: what a SpaceWar.com page means, from its HTML and URL alone.

Nothing here imports Scrapy, so pages are tested offline on saved copies. Every field reads
what a reader sees (the order and wording of the page's parts) first and falls back to meta
tags and text patterns, so a layout the parser has not seen still parses.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from datetime import date
from functools import cached_property

from lxml import html as lxml_html

from spacewar_crawler.boilerplate import ends_article, is_boilerplate
from spacewar_crawler.dateline import (
    Dateline,
    parse_dateline,
    parse_iso_date,
    split_leading_dateline,
)
from spacewar_crawler.page_text import (
    Block,
    Image,
    element_text,
    normalize_space,
    parse_document,
    subtree_elements,
    text_blocks,
)
from spacewar_crawler.site_urls import SiteUrls, may_be_article, slugify

_BYLINE = re.compile(r"^by\s+(?P<who>\S.{0,150})$", re.IGNORECASE)
_HEADER_DATE = re.compile(r"^date \d{4}-\d{2}-\d{2}$", re.IGNORECASE)
_NAV_MARK = re.compile(r"(?:^|[\s_-])(?:nav|navbar|navigation|menu)(?:$|[\s_-])", re.IGNORECASE)
_AD_MARK = re.compile(r"(?:^|[\s_-])(?:ad|ads|ad-slot|advert|advertisement|sponsor|banner)(?:$|[\s_-])", re.IGNORECASE)
_CAPTION_MARK = re.compile(r"caption", re.IGNORECASE)
_SITE_GRAPHIC = re.compile(r"logo|spacer|icon|button|pixel|/ads?/|banner|sprite", re.IGNORECASE)
_OLDER_LINK = re.compile(r"\b(?:older|previous|earlier|archive|next page|more .* news)\b", re.IGNORECASE)
_READ_MORE = re.compile(r"^(?:read more|more|full story)\W*$", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s+[|\u2013\u2014:-]+\s+|\s+\|\s*|\s*\|\s+")
_SITE_NAME = re.compile(r"^[\w-]+\.(?:com|net|org|info)$", re.IGNORECASE)
_MAX_HEADER_BLOCKS = 4
_MAX_SLOT_TEXT = 300


@dataclass(frozen=True)
class LinkedArticle:
    url: str
    title: str
    label: str | None = None
    """The group label printed above the link (a section name), if any."""


@dataclass(frozen=True)
class Picture:
    url: str
    caption: str | None


def _classes(el: lxml_html.HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


def _ancestors_and_self(el: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    chain = [el]
    chain.extend(el.iterancestors())
    return chain


def _is_label(text: str) -> bool:
    """A short upper-case line such as 'SUPERPOWERS': a section or group label."""
    if not 0 < len(text) <= 40 or text.upper() != text:
        return False
    return sum(c.isalpha() for c in text) >= 3


def _link_only(block: Block) -> bool:
    """A line that is nothing but links: navigation, not prose."""
    return bool(block.links) and normalize_space(" ".join(link.text for link in block.links)) == block.text


class SitePage:
    """What every page of the site carries: its text blocks, links and navigation bar."""

    def __init__(self, content: str | bytes, url: str, content_type: str | None = None) -> None:
        self.url = url
        self.urls = SiteUrls(url)
        self.root = parse_document(content, content_type)
        self.blocks, self._images = text_blocks(self.root)

    def meta(self, *names: str) -> str | None:
        """The first non-empty <meta name|property=...> among `names`."""
        for name in names:
            for el in self.root.iter("meta"):
                if name in (el.get("name"), el.get("property"), el.get("itemprop")):
                    value = normalize_space(el.get("content") or "")
                    if value:
                        return value
        return None

    def absolute(self, href: str) -> str | None:
        url = self.urls.absolute(href, self.base_href)
        return self.urls.canonical(url) if url else None

    @cached_property
    def base_href(self) -> str:
        base = self.root.find(".//base[@href]")
        href = base.get("href") if base is not None else None
        return (self.urls.absolute(href, self.url) if href else None) or self.url

    @cached_property
    def _marked_elements(self) -> list[lxml_html.HtmlElement]:
        """Elements that can mark navigation, ads or captions: by tag, class or id (one XPath pass in C)."""
        return self.root.xpath("//nav | //aside | //figcaption | //*[@class or @id]")

    @cached_property
    def nav_blocks(self) -> frozenset[int]:
        """Indexes of the blocks inside the navigation bar."""
        bars = [el for el in self._marked_elements if el.tag == "nav" or _NAV_MARK.search(_classes(el))]
        inside = subtree_elements(bars)
        return frozenset(i for i, block in enumerate(self.blocks) if block.element in inside)

    @cached_property
    def sections(self) -> dict[str, str]:
        """Section display name -> listing URL, from the navigation bar, in its order."""
        found: dict[str, str] = {}
        for i in sorted(self.nav_blocks):
            for link in self.blocks[i].links:
                url = self.absolute(link.href)
                if url and self.urls.is_listing_candidate(url) and link.text not in found:
                    found[link.text] = url
        return found

    def section_name(self, label: str) -> str:
        """The display name for a printed label: as the nav bar spells it, else title case."""
        wanted = slugify(label)
        for name in self.sections:
            if slugify(name) == wanted:
                return name
        return string.capwords(label.lower())

    def section_of_listing(self, url: str) -> str | None:
        for name, listing in self.sections.items():
            if listing == url:
                return name
        return None

    def article_links(self, start: int = 0, end: int | None = None) -> list[LinkedArticle]:
        """Network article links in blocks[start:end], once each, with the label above them."""
        seen: dict[str, LinkedArticle] = {}
        label: str | None = None
        for block in self.blocks[start:end]:
            if not block.links and _is_label(block.text):
                label = block.text
                continue
            for link in block.links:
                if not may_be_article(link.href):
                    continue  # most links of a page: ruled out before resolving them
                url = self.absolute(link.href)
                if url is None or url in seen or not self.urls.is_network_article(url):
                    continue
                if _READ_MORE.match(link.text):
                    continue
                seen[url] = LinkedArticle(url, link.text, label)
        return list(seen.values())

    def header_date(self) -> date | None:
        for block in self.blocks[:20]:
            if _HEADER_DATE.match(block.text):
                return parse_iso_date(block.text)
        return None


class ArticlePage(SitePage):
    """An article page: title, section, byline, dateline, body, images and related links.

    `keep_captions`: image captions stay in the body as paragraphs (off by default).
    """

    def __init__(
        self, content: str | bytes, url: str, content_type: str | None = None, *, keep_captions: bool = False
    ) -> None:
        super().__init__(content, url, content_type)
        self.keep_captions = keep_captions

    @cached_property
    def title(self) -> str | None:
        for h1 in self.root.iter("h1"):
            text = normalize_space(element_text(h1))
            if text and not any(a.tag in ("nav", "header") for a in h1.iterancestors()):
                return text
        meta = self.meta("og:title", "twitter:title", "headline")
        if meta:
            return meta
        title_el = self.root.find(".//title")
        if title_el is not None:
            return self._strip_site_name(normalize_space(element_text(title_el))) or None
        return None

    def _strip_site_name(self, title: str) -> str:
        """'SpaceWar.com | Title' or 'Title - SpaceWar.com' -> 'Title'."""
        site_name = (self.meta("og:site_name") or "").casefold()
        parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
        kept = [p for p in parts if not _SITE_NAME.match(p) and p.casefold() != site_name]
        return " - ".join(kept) if kept else title

    @cached_property
    def title_index(self) -> int | None:
        if not self.title:
            return None
        wanted = self.title.casefold()
        for i, block in enumerate(self.blocks):
            if block.text.casefold() == wanted and i not in self.nav_blocks:
                return i
        return None

    @cached_property
    def _header(self) -> tuple[str | None, Dateline | None, int, str | None]:
        """(author, dateline, first body block, first paragraph's text after a lead dateline)."""
        start = self.title_index + 1 if self.title_index is not None else self._first_content_block
        author: str | None = None
        dateline: Dateline | None = None
        index = start
        while index < len(self.blocks) and index < start + _MAX_HEADER_BLOCKS:
            text = self.blocks[index].text
            byline = _BYLINE.match(text)
            if author is None and dateline is None and byline:
                author = byline.group("who").strip().rstrip(",")
            elif dateline is None and (parsed := parse_dateline(text)):
                dateline = parsed
            elif _HEADER_DATE.match(text) or (self.blocks[index].links and not text.strip(" |")):
                pass
            else:
                break
            index += 1
        lead_rest: str | None = None
        if dateline is None and index < len(self.blocks):
            lead = split_leading_dateline(self.blocks[index].text)
            if lead:
                dateline, lead_rest = lead
        return author, dateline, index, lead_rest

    @cached_property
    def _first_content_block(self) -> int:
        return max(self.nav_blocks, default=-1) + 1

    @property
    def author(self) -> str | None:
        author = self._header[0]
        if author:
            return author
        meta = self.meta("author", "article:author")
        site_name = (self.meta("og:site_name") or "").casefold()
        if meta and not _SITE_NAME.match(meta) and meta.casefold() != site_name and not meta.startswith("http"):
            return meta
        return None

    @property
    def dateline(self) -> Dateline | None:
        return self._header[1]

    @cached_property
    def published(self) -> date | None:
        if self.dateline and self.dateline.date:
            return self.dateline.date
        meta = self.meta("article:published_time", "datePublished", "date", "dc.date", "pubdate")
        meta_date = parse_iso_date(meta) if meta else None
        return meta_date or self.header_date()

    @cached_property
    def _end_index(self) -> int:
        """First block after the article text ('Related Links', RELATED CONTENT, copyright, ...)."""
        start = self._header[2]
        for i in range(start, len(self.blocks)):
            if ends_article(self.blocks[i].text, after_text=i > start):
                return i
        return len(self.blocks)

    @cached_property
    def _excluded_elements(self) -> set[lxml_html.HtmlElement]:
        """Elements whose text is not article text: captions, ad slots, asides, navigation (and all inside)."""
        excluded = [] if self.keep_captions else [caption for _, caption in self._pictures if caption is not None]
        for el in self._marked_elements:
            if el.tag == "nav" or (el.tag == "figcaption" and not self.keep_captions):
                excluded.append(el)
            elif (el.tag == "aside" or _AD_MARK.search(_classes(el))) and len(element_text(el)) < _MAX_SLOT_TEXT:
                # An "ad slot" holding paragraphs of text is an unclosed tag, not an ad.
                excluded.append(el)
        return subtree_elements(excluded)

    @cached_property
    def paragraphs(self) -> list[str]:
        """The blocks between the dateline and the end of the article, as printed."""
        _, _, start, lead_rest = self._header
        paragraphs: list[str] = []
        for i in range(start, self._end_index):
            block = self.blocks[i]
            if i in self.nav_blocks or _link_only(block) or block.element in self._excluded_elements:
                continue
            paragraphs.append(lead_rest if (i == start and lead_rest is not None) else block.text)
        return paragraphs

    @property
    def body(self) -> str:
        return "\n\n".join(self.paragraphs)

    @cached_property
    def looks_like_listing(self) -> bool:
        """No dateline and several article links in what would be the body: a listing page."""
        if self.dateline is not None:
            return False
        return len(self.article_links(self._header[2], self._end_index)) >= 3

    @cached_property
    def _pictures(self) -> list[tuple[Picture, lxml_html.HtmlElement | None]]:
        if self.title_index is None:
            return []
        start, end = self.title_index, self._end_index
        pictures: list[tuple[Picture, lxml_html.HtmlElement | None]] = []
        for image in self._images:
            if not start < image.position <= end or not self._is_story_image(image):
                continue
            url = self.absolute(image.src)
            if url is None:
                continue
            caption_el = self._caption_element(image.element)
            caption = normalize_space(element_text(caption_el)) if caption_el is not None else ""
            pictures.append((Picture(url, caption or None), caption_el))
        return pictures

    @property
    def images(self) -> list[Picture]:
        return [picture for picture, _ in self._pictures]

    def _is_story_image(self, image: Image) -> bool:
        if _SITE_GRAPHIC.search(image.src):
            return False
        for size in (image.element.get("width"), image.element.get("height")):
            if size and size.isdigit() and int(size) < 60:
                return False
        return not any(_AD_MARK.search(_classes(a)) or a.tag == "nav" for a in image.element.iterancestors())

    def _caption_element(self, img: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
        figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
        if figure is not None:
            return figure.find(".//figcaption")
        sibling = img.getnext()
        while sibling is not None and sibling.tag == "br":
            sibling = sibling.getnext()
        if sibling is not None and (sibling.tag in ("i", "em", "small") or _CAPTION_MARK.search(_classes(sibling))):
            return sibling
        parent = img.getparent()
        if parent is not None:
            for candidate in parent.iter():
                if candidate is not img and _CAPTION_MARK.search(_classes(candidate)):
                    return candidate
        return None

    @cached_property
    def _related_links_index(self) -> int | None:
        for i in range(self._header[2], len(self.blocks)):
            if self.blocks[i].text.casefold() == "related links":
                return i
        return None

    @cached_property
    def related_links(self) -> list[LinkedArticle]:
        """The 'Related Links' list under the body."""
        if self._related_links_index is None:
            return []
        found: list[LinkedArticle] = []
        for block in self.blocks[self._related_links_index + 1 :]:
            link_text = " ".join(link.text for link in block.links)
            if not block.links or normalize_space(link_text) != block.text or is_boilerplate(block.text):
                break
            for link in block.links:
                url = self.absolute(link.href)
                if url:
                    found.append(LinkedArticle(url, link.text))
        return found

    @cached_property
    def related(self) -> list[LinkedArticle]:
        """Article links of the RELATED CONTENT block, in page order, with their labels."""
        start = self._header[2]
        for i in range(start, len(self.blocks)):
            if self.blocks[i].text.casefold() == "related content":
                return [link for link in self.article_links(i + 1) if link.url != self.canonical_url]
        return []

    @cached_property
    def canonical_url(self) -> str:
        """The page's own canonical link when it points at this site, else its URL."""
        for el in self.root.iter("link"):
            if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
                url = self.absolute(el.get("href", ""))
                if url and self.urls.is_on_site(url):
                    return url
        return self.urls.canonical(self.url)

    @cached_property
    def section(self) -> str | None:
        if self.title_index is not None:
            for i in range(self.title_index - 1, max(self.title_index - 3, -1), -1):
                if i in self.nav_blocks:
                    break
                if _is_label(self.blocks[i].text) and not self.blocks[i].links:
                    return self.section_name(self.blocks[i].text)
        meta = self.meta("article:section", "section")
        if meta:
            return self.section_name(meta)
        for link in self.related_links:
            name = self.section_of_listing(link.url)
            if name:
                return name
        return None

    def fields(self) -> dict[str, object]:
        """The article fields of INTERFACE.md that the page itself determines."""
        dateline = self.dateline
        section = self.section
        return {
            "url": self.canonical_url,
            "site": self.urls.host,
            "section": section,
            "section_slug": slugify(section) if section else None,
            "title": self.title,
            "author": self.author,
            "dateline": dateline.raw if dateline else None,
            "location": dateline.location if dateline else None,
            "agency": dateline.agency if dateline else None,
            "published": self.published.isoformat() if self.published else None,
            "body": self.body,
            "images": [{"url": p.url, "caption": p.caption} for p in self.images],
            "related": [{"url": r.url, "title": r.title} for r in self.related],
            "related_links": [{"url": r.url, "title": r.title} for r in self.related_links],
        }


class ListingPage(SitePage):
    """A section listing page: the section it names, its article links and older pages."""

    @cached_property
    def section(self) -> str | None:
        """The section named by the page's heading (h1/h2 or an upper-case label)."""
        own = self.section_of_listing(self.urls.canonical(self.url))
        if own:
            return own
        for block in self.blocks:
            if any(a.tag in ("h1", "h2") for a in _ancestors_and_self(block.element)) or _is_label(block.text):
                for name in self.sections:
                    if slugify(name) in slugify(block.text):
                        return name
        return None

    @cached_property
    def articles(self) -> list[LinkedArticle]:
        content = [i for i in range(len(self.blocks)) if i not in self.nav_blocks]
        return self.article_links(content[0] if content else 0)

    @cached_property
    def older_pages(self) -> list[str]:
        """Links to older listing pages of the same section ('Older Superpowers News')."""
        pages: list[str] = []
        for i, block in enumerate(self.blocks):
            if i in self.nav_blocks:
                continue
            for link in block.links:
                url = self.absolute(link.href)
                if (
                    url
                    and url not in pages
                    and url != self.urls.canonical(self.url)
                    and self.urls.is_listing_candidate(url)
                    and (_OLDER_LINK.search(link.text) or link.element.get("rel") in ("next", "prev"))
                ):
                    pages.append(url)
        return pages

    @property
    def is_listing(self) -> bool:
        return bool(self.articles)
