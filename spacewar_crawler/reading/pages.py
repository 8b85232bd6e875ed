"""Page objects: what a SpaceWar.com page means, from its HTML and URL alone.

Nothing here imports Scrapy, so pages are tested offline on saved copies. Every field reads
what a reader sees (the order and wording of the page's parts) first and falls back to meta
tags and text patterns, so a layout the parser has not seen still parses.
"""

from __future__ import annotations

import logging
import re
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar, overload
from urllib.parse import urlsplit

from lxml import etree
from lxml import html as lxml_html

from spacewar_crawler.reading.article import (
    MISSING_BODY,
    MISSING_TITLE,
    NOT_AN_ARTICLE,
    PARSE_ERROR,
    ArticleItem,
    RejectedPage,
    content_hash,
)
from spacewar_crawler.reading.boilerplate import BoilerplateStripper, ends_article, is_boilerplate
from spacewar_crawler.reading.dateline import (
    Dateline,
    parse_dateline,
    parse_iso_date,
    split_leading_dateline,
)
from spacewar_crawler.reading.header import (
    BYLINE,
    HEADER_DATE,
    HeaderParts,
    comparable,
    is_label,
    is_name_list,
    piece_bounds,
    read_header_line,
)
from spacewar_crawler.reading.layouts import Layout, detect_layout
from spacewar_crawler.reading.page_text import (
    Block,
    Image,
    element_text,
    normalize_space,
    parse_document,
    subtree_elements,
    text_blocks,
)
from spacewar_crawler.reading.quality import (
    BODY_STARTS_WITH_HEADLINE,
    CANONICAL_ELSEWHERE,
    DATE_FROM_FALLBACK,
    HEADER_IN_BODY,
    LAYOUT_UNKNOWN,
    NO_BYLINE,
    NO_DATE,
    NO_DATELINE,
    NO_SECTION,
    SHORT_BODY,
    UNKNOWN_LAYOUT,
)
from spacewar_crawler.reading.structured import StructuredArticle, calendar_date, structured_article
from spacewar_crawler.site.urls import SiteUrls, may_be_article, slugify

logger = logging.getLogger(__name__)

_NAV_MARK = re.compile(r"(?:^|[\s_-])(?:nav|navbar|navigation|menu)(?:$|[\s_-])", re.IGNORECASE)
_AD_MARK = re.compile(r"(?:^|[\s_-])(?:ad|ads|ad-slot|advert|advertisement|sponsor|banner)(?:$|[\s_-])", re.IGNORECASE)
_CAPTION_MARK = re.compile(
    r"caption|(?:^|[\s_-])(?:cap|credit|legend|photo-?text|img-?note|image-?text)(?:$|[\s_-])", re.IGNORECASE
)
_SITE_GRAPHIC = re.compile(r"logo|spacer|icon|button|pixel|/ads?/|banner|sprite", re.IGNORECASE)
_OLDER_LINK = re.compile(r"\b(?:older|previous|earlier|archive|next page|more .* news)\b", re.IGNORECASE)
_READ_MORE = re.compile(r"^(?:read more|more|full story)\W*$", re.IGNORECASE)
_TITLE_SEPARATORS = re.compile(r"\s+[|\u2013\u2014:-]+\s+|\s+\|\s*|\s*\|\s+")
_SITE_NAME = re.compile(r"^[\w-]+\.(?:com|net|org|info)$", re.IGNORECASE)
_POST_ARTICLE = etree.XPath("//article[contains(concat(' ', @class, ' '), ' type-post ')]")
_PAGE_CONTENT = etree.XPath("boolean(.//main | .//article | .//h1)")
# WordPress's byline and category markup, where the text prints neither (core themes print no structured data).
_BYLINE_MARK = re.compile(r"(?:^|\s)(?:wp-block-post-author-name|author vcard|byline-author|entry-author)(?:$|\s)")
_CATEGORY_MARK = re.compile(r"(?:^|\s)(?:taxonomy-category|cat-links)(?:$|\s)")
_ARTICLE_BODY = etree.XPath("//*[@itemprop='articleBody']")
_MAX_HEADER_BLOCKS = 8
# A link printed as a headline has at least this many words ("About us", "Contact" have fewer).
_HEADLINE_WORDS = 4
_CONTENT_MARK = re.compile(
    r"(?:^|\s)(?:entry-content|post-content|wp-block-post-content|article-content|article-body|td-post-content)(?:$|\s)"
)
_MIN_NAV_LINKS = 4
_MAX_NAV_LINKS = 60
_MAX_CAPTION_BOX = 12
_MAX_SLOT_TEXT = 300


@dataclass(frozen=True)
class LinkedArticle:
    url: str
    title: str
    label: str | None = None
    """The group label printed above the link (a section name), if any."""
    known: bool = True
    """Its URL follows a known article rule; False: an on-site link in an article's place (a headline list,
    RELATED CONTENT) whose URL follows none (a short link, /go/N): an article only if the page it leads to reads
    as one."""


@dataclass(frozen=True)
class Picture:
    url: str
    caption: str | None


T = TypeVar("T")


class _computed_once(Generic[T]):
    """`functools.cached_property` without its lock (Python 3.11 takes one on every first access: a page object
    computes some twenty properties once each, and the lock cost about as much as a small one of them). A page
    object belongs to one thread."""

    def __init__(self, method: Callable[[Any], T]) -> None:
        self.method = method
        self.name = method.__name__
        self.__doc__ = method.__doc__

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, instance: None, owner: type) -> _computed_once[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> T | _computed_once[T]:
        if instance is None:
            return self
        value = self.method(instance)
        instance.__dict__[self.name] = value  # later reads find it there, not here
        return value


def _classes(el: lxml_html.HtmlElement) -> str:
    return f"{el.get('class', '')} {el.get('id', '')}"


def _ancestors_and_self(el: lxml_html.HtmlElement) -> list[lxml_html.HtmlElement]:
    chain = [el]
    chain.extend(el.iterancestors())
    return chain


def _link_only(block: Block) -> bool:
    """A line that is nothing but links: navigation, not prose."""
    return bool(block.links) and normalize_space(" ".join(link.text for link in block.links)) == block.text


class SitePage:
    """What every page of the site carries: its text blocks, links and navigation bar."""

    def __init__(self, content: str | bytes, url: str, content_type: str | None = None) -> None:
        self.url = url
        self.urls = SiteUrls(url)
        self.root = parse_document(content, content_type)
        # The elements that can mark navigation, ads or captions (by tag, class or id) come with the blocks.
        self.blocks, self._images, self._marked_elements = text_blocks(self.root)

    def meta(self, *names: str) -> str | None:
        """The first non-empty <meta name|property=...> among `names`."""
        return next((self._metas[name] for name in names if name in self._metas), None)

    @_computed_once
    def _metas(self) -> dict[str, str]:
        """Each meta name, property or itemprop with its first non-empty content: one pass over the page's metas."""
        found: dict[str, str] = {}
        for el in self.root.iter("meta"):
            value = normalize_space(el.get("content") or "")
            if value:
                for attribute in ("name", "property", "itemprop"):
                    name = el.get(attribute)
                    if name:
                        found.setdefault(name, value)
        return found

    def absolute(self, href: str) -> str | None:
        url = self.urls.absolute(href, self.base_href)
        return self.urls.canonical(url) if url else None

    @_computed_once
    def base_href(self) -> str:
        base = self.root.find(".//base[@href]")
        href = base.get("href") if base is not None else None
        return (self.urls.absolute(href, self.url) if href else None) or self.url

    @_computed_once
    def _marked_names(self) -> list[tuple[lxml_html.HtmlElement, str]]:
        """Each marked element with its class and id, as one string: read once, searched by several rules."""
        return [(el, _classes(el)) for el in self._marked_elements]

    @_computed_once
    def nav_blocks(self) -> frozenset[int]:
        """Indexes of the blocks inside the navigation bar."""
        bars = [
            el
            for el, names in self._marked_names
            if (el.tag == "nav" or _NAV_MARK.search(names)) and not _holds_page(el)
        ]
        if not bars and (unmarked := self._unmarked_nav_bar()) is not None:
            bars = [unmarked]
        inside = subtree_elements(bars)
        return frozenset(i for i, block in enumerate(self.blocks) if block.element in inside)

    def _unmarked_nav_bar(self) -> lxml_html.HtmlElement | None:
        """A navigation bar that no tag or class names: the first element made mostly of links to section pages."""
        listing_links = []
        for link in self.root.iter("a"):
            url = self.absolute(link.get("href") or "") if link.get("href") else None
            if url and self.urls.is_listing_candidate(url):
                listing_links.append(link)
        if len(listing_links) < _MIN_NAV_LINKS:
            return None
        chosen = set(listing_links)
        for ancestor in listing_links[0].iterancestors():
            links = [a for a in ancestor.iter("a") if a in chosen]
            if len(links) > _MAX_NAV_LINKS:
                return None  # a page of links (a listing, a trap), not a bar
            if len(links) >= _MIN_NAV_LINKS:
                link_text = sum(len(normalize_space(element_text(a))) for a in links)
                own_text = len(normalize_space(element_text(ancestor)))
                return ancestor if link_text >= 0.6 * own_text else None
        return None

    @_computed_once
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

    def article_links(
        self, start: int = 0, end: int | None = None, skip: set[lxml_html.HtmlElement] | None = None
    ) -> list[LinkedArticle]:
        """Article links in blocks[start:end] (but not in `skip`), once each, with the label above them: network
        articles by their URLs, and on-site links of unknown shape that read as headlines (`known=False`)."""
        seen: dict[str, LinkedArticle] = {}
        label: str | None = None
        for block in self.blocks[start:end]:
            if skip and block.element in skip:
                continue
            if not block.links and is_label(block.text):
                label = block.text
                continue
            for link in block.links:
                shaped = may_be_article(link.href)
                if not shaped and link.text.count(" ") < _HEADLINE_WORDS - 1:
                    continue  # most links of a page: ruled out before resolving them
                url = self.absolute(link.href)
                if url is None or url in seen or _READ_MORE.match(link.text):
                    continue
                if shaped and self.urls.is_network_article(url):
                    seen[url] = LinkedArticle(url, link.text, label)
                elif self._may_be_unknown_article(url, link.text):
                    seen[url] = LinkedArticle(url, link.text, label, known=False)
        return list(seen.values())

    def _may_be_unknown_article(self, url: str, text: str) -> bool:
        """An on-site link that is no page of a known kind, printed as a headline (several words)."""
        return len(text.split()) >= _HEADLINE_WORDS and self.urls.may_be_unknown_article(url)

    def header_date(self) -> date | None:
        for block in self.blocks[:20]:
            if HEADER_DATE.match(block.text):
                return parse_iso_date(block.text)
        return None


@dataclass(frozen=True)
class ParserOptions:
    """How articles are read, from settings, read once per run: `keep_captions` keeps image captions in the body."""

    keep_captions: bool = False

    @classmethod
    def from_settings(cls, settings: Any) -> ParserOptions:
        """From Scrapy settings (anything with `getbool`)."""
        return cls(keep_captions=settings.getbool("KEEP_IMAGE_CAPTIONS"))


@dataclass(frozen=True)
class CrawlHints:
    """What the crawl knew of a page before reading it: used only where the page itself says nothing."""

    section: str | None = None
    """The section of the listing or RELATED CONTENT group that linked to the page."""
    published: str | None = None
    """A date from a feed item (ISO)."""
    aliases: tuple[str, ...] = ()
    """Other URLs of the page: those that redirected to it (canonical form)."""


@dataclass(frozen=True)
class Header:
    parts: HeaderParts
    start: int
    """The first block of the header (the first printed headline, when it was found)."""
    body_start: int
    lead_rest: str | None
    """The body's first paragraph, where the header's last line ran on into it."""


_STRIPPER = BoilerplateStripper()
# The ad sizes of the IAB standard and the network's own slots: images of these sizes are ads.
AD_SIZES = frozenset(
    {
        (728, 90), (300, 250), (160, 600), (468, 60), (120, 600), (300, 600), (336, 280), (250, 250),
        (200, 200), (320, 50), (320, 100), (970, 90), (970, 250), (234, 60), (125, 125), (120, 240),
        (180, 150), (300, 100), (88, 31), (120, 90), (120, 60), (300, 50), (728, 250),
    }
)  # fmt: skip
_SIZE_IN_NAME = re.compile(r"(?<!\d)(\d{2,3})x(\d{2,3})(?!\d)")
_AD_LINK = re.compile(
    r"doubleclick|googlesyndication|adserv|adclick|/click|clickthrough|/ads?[/.?]|[?&](?:ad|banner)(?:id)?=|//ads?\.",
    re.IGNORECASE,
)
_CAPTION_TAGS = frozenset({"span", "font", "i", "em", "small", "cite", "figcaption"})
_SHORT_BODY = 300


class ArticlePage(SitePage):
    """An article page: title, section, byline, dateline, body, images and related links.

    `to_item()` gives the finished, cleaned item (or the reason there is none); the
    properties are the parts it is made of.
    """

    def __init__(
        self, content: str | bytes, url: str, content_type: str | None = None, options: ParserOptions | None = None
    ) -> None:
        super().__init__(content, url, content_type)
        self.options = options or ParserOptions()

    @_computed_once
    def layout(self) -> Layout | None:
        return detect_layout(self._marked_elements)

    @_computed_once
    def _structured(self) -> StructuredArticle | None:
        return structured_article(self.root)

    @_computed_once
    def _content(self) -> set[lxml_html.HtmlElement] | None:
        """The elements of the entry's own content (WordPress's div.entry-content, itemprop=articleBody), when the
        page marks it: the body is read there only, not in the comments, widgets and post navigation around it."""
        if self.layout is not None and not self.layout.name.startswith("wordpress"):
            return None  # the classic templates mark no entry content: their body is bounded by what it prints
        marked = [el for el, names in self._marked_names if _CONTENT_MARK.search(names)]
        marked += _ARTICLE_BODY(self.root) if not marked else []
        if marked:
            return subtree_elements(marked[:1])
        if self.layout is not None or self.title_index is None:
            return None
        # No class says where the entry is (a redesign, a theme of its own): the <article> that prints the
        # headline, without its own <header> and <footer> (the entry's meta, categories, share buttons).
        article = next((a for a in self.blocks[self.title_index].element.iterancestors("article")), None)
        if article is None:
            return None
        inside = subtree_elements([article])
        return inside - subtree_elements([el for el in article.iter("header", "footer") if el is not article])

    @property
    def is_wordpress_page(self) -> bool:
        """A WordPress page that is no post (About, Contact): it has content and a title, and is no article."""
        if self.layout is None or not self.layout.name.startswith("wordpress"):
            return False
        if self._structured is not None or self.meta("og:type") == "article" or self.meta("article:published_time"):
            return False
        body = self.root.find("body")
        classes = set((body.get("class") or "").split()) if body is not None else set()
        return not classes & {"single-post", "single"} and not _POST_ARTICLE(self.root)

    @property
    def modified(self) -> str | None:
        """When the site says the article last changed (ISO 8601, as printed): structured data, meta, then the
        theme's <time class="updated">."""
        structured = self._structured.modified if self._structured else None
        meta = self.meta("article:modified_time", "og:updated_time", "dateModified")
        return structured or meta or self._entry_time("updated")

    def _title_candidates(self) -> Iterator[str]:
        """Headline texts, most trusted first: the layout's headline, h1, then meta and <title>; each once."""
        seen: set[str] = set()
        for text in self._title_texts():
            if text and text not in seen:
                seen.add(text)
                yield text

    def _title_texts(self) -> Iterator[str]:
        if self.layout is not None:
            yield from (normalize_space(text) for text in self.layout.headline_texts(self._marked_elements))
        if self._structured is not None and self._structured.headline:
            yield self._structured.headline
        site_name = (self.meta("og:site_name") or "").casefold()
        for h1 in self.root.iter("h1"):
            text = normalize_space(element_text(h1))
            in_nav = any(a.tag == "nav" for a in h1.iterancestors())
            if not in_nav and not _SITE_NAME.match(text) and text.casefold() != site_name:
                yield text
        yield from (m for m in (self.meta("og:title"), self.meta("twitter:title"), self.meta("headline")) if m)
        title_el = self.root.find(".//title")
        if title_el is not None:
            yield self._strip_site_name(normalize_space(element_text(title_el)))

    def _strip_site_name(self, title: str) -> str:
        """'SpaceWar.com | Title' or 'Title - SpaceDaily' -> 'Title'."""
        parts = [p for p in _TITLE_SEPARATORS.split(title) if p]
        kept = [p for p in parts if not _SITE_NAME.match(p) and p.casefold() not in self._site_names]
        return " - ".join(kept) if kept else title

    @_computed_once
    def _site_names(self) -> frozenset[str]:
        """What the site calls itself (case-folded): og:site_name, and the text of a link to its home page (by its
        URL, or by rel=home as WordPress themes mark the site title)."""
        names = {(self.meta("og:site_name") or "").casefold()}
        for link in self.root.iter("a"):
            href = link.get("href")
            if href and ("home" in _rel(link) or (self.absolute(href) or "").rstrip("/") == self.urls.root.rstrip("/")):
                text = normalize_space(element_text(link))
                if 0 < len(text) <= 40:
                    names.add(text.casefold())
        return frozenset(names - {""})

    @_computed_once
    def _located_title(self) -> tuple[str | None, int | None, HeaderParts | None, int]:
        """The headline, the first block that prints it (a block of its own, or the start of a header line), what
        that line gave, and where in it the rest begins."""
        # Each block's first letter or digit: only a block that starts like a candidate is read as a header line.
        starts = [(i, _initial(block.text)) for i, block in enumerate(self.blocks) if i not in self.nav_blocks]
        candidates = _Lazy(self._title_candidates())  # read as needed: the first candidate is nearly always it
        for linked in (False, True):  # a headline that is a link may be a sidebar's: only if nothing else prints it
            for candidate in candidates:
                key = comparable(candidate)
                for i, initial in starts:
                    if not key or initial != key[0]:
                        continue
                    block = self.blocks[i]
                    if not comparable(block.text[: len(candidate) + 8]).startswith(key[:12]):
                        continue
                    if _link_only(block) != linked:
                        continue
                    parts = HeaderParts()
                    rest = self._read_header_line(i, key, parts)
                    if rest and parts.headlines:
                        return candidate, i, parts, rest
        return next(iter(candidates), None), None, None, 0

    @property
    def title(self) -> str | None:
        return self._located_title[0]

    @property
    def title_index(self) -> int | None:
        return self._located_title[1]

    @_computed_once
    def header(self) -> Header:
        _, located, first_line, rest = self._located_title
        start = located if located is not None else self._header_without_headline
        key = comparable(self.title or "")
        parts = first_line or HeaderParts()
        index, lead_rest = start, None
        if first_line is not None:  # the headline's own line, read when it was located
            if rest < len(self.blocks[start].text):
                return Header(parts, start, start, self.blocks[start].text[rest:])
            index += 1
        limit = start + _MAX_HEADER_BLOCKS
        content = self._content
        if content is not None and start < len(self.blocks) and self.blocks[start].element not in content:
            # The entry's meta line ("Posted on ... by ...") sits between headline and content: the byline and
            # dateline the network prints are at the top of the content.
            first = next((i for i in range(index, len(self.blocks)) if self.blocks[i].element in content), index)
            index, limit = first, limit + first - index
        while index < len(self.blocks) and index < limit:
            block = self.blocks[index]
            if self._outside_text(index) or (len(block.text) < 100 and is_boilerplate(block.text)):
                index += 1
                continue
            rest = self._read_header_line(index, key, parts)
            if rest == len(block.text):
                index += 1
                continue
            if rest:
                lead_rest = block.text[rest:]
            break
        return Header(parts, start, index, lead_rest)

    @_computed_once
    def _header_without_headline(self) -> int:
        """Where the header is when no headline is printed: the first line that reads as a byline or dateline."""
        first = max(self.nav_blocks, default=-1) + 1
        for i in range(first, min(len(self.blocks), first + 40)):
            parts = HeaderParts()
            if not self._outside_text(i) and self._read_header_line(i, "", parts) and (parts.author or parts.dateline):
                return i
        return first

    def _read_header_line(self, index: int, headline_key: str, parts: HeaderParts) -> int:
        block = self.blocks[index]
        return read_header_line(block.text, piece_bounds(block.parts, block.text), headline_key, parts)

    def _outside_text(self, index: int) -> bool:
        """A block that is no article text: navigation, an ad slot, an aside, a caption."""
        block = self.blocks[index]
        return index in self.nav_blocks or block.element in self._excluded_elements or block.text in self._captions

    @property
    def author(self) -> str | None:
        author = self.header.parts.author
        if author:
            return author
        if self._structured is not None and self._structured.author:
            return self._structured.author
        linked = (normalize_space(element_text(a)) for a in self.root.iter("a") if "author" in _rel(a))
        for marked in (self._marked_text(_BYLINE_MARK), next(linked, None)):
            if marked and is_name_list(marked):
                return marked
        meta = self.meta("author", "article:author")
        site_name = (self.meta("og:site_name") or "").casefold()
        if meta and not _SITE_NAME.match(meta) and meta.casefold() != site_name and not meta.startswith("http"):
            return meta
        return None

    @property
    def dateline(self) -> Dateline | None:
        return self.header.parts.dateline

    @_computed_once
    def page_date(self) -> date | None:
        """The page's own date when the dateline gives none: a meta tag, structured data, the entry's
        <time class="published">, else the 'date YYYY-MM-DD' header."""
        meta = self.meta("article:published_time", "datePublished", "date", "dc.date", "pubdate")
        meta_date = parse_iso_date(meta) if meta else None
        structured = calendar_date(self._structured.published) if self._structured else None
        return meta_date or structured or calendar_date(self._entry_time("published")) or self.header_date()

    def _entry_time(self, kind: str) -> str | None:
        """The datetime of a WordPress theme's <time class="entry-date published|updated"> (or a block theme's
        post date), the theme's own print of when the post was published or updated."""
        for el in self.root.iter("time"):
            classes = (el.get("class") or "").split()
            parent = el.getparent()
            in_date_block = parent is not None and "wp-block-post-date" in (parent.get("class") or "")
            if el.get("datetime") and (kind in classes or (kind == "published" and in_date_block)):
                return el.get("datetime")
        return None

    @property
    def published(self) -> date | None:
        if self.dateline and self.dateline.date:
            return self.dateline.date
        return self.page_date

    @_computed_once
    def _end_index(self) -> int:
        """First block after the article text ('Related Links', RELATED CONTENT, copyright, ...)."""
        start = self.header.body_start
        for i in range(start, len(self.blocks)):
            if ends_article(self.blocks[i].text, after_text=i > start):
                return i
        return len(self.blocks)

    @_computed_once
    def _excluded_elements(self) -> set[lxml_html.HtmlElement]:
        """Elements whose text is not article text: figcaptions, ad slots, asides, navigation (and all inside)."""
        excluded = []
        for el, names in self._marked_names:
            if el.tag == "nav" or (el.tag == "figcaption" and not self.options.keep_captions):
                excluded.append(el)
            elif (el.tag == "aside" or _AD_MARK.search(names)) and len(element_text(el)) < _MAX_SLOT_TEXT:
                # An "ad slot" holding paragraphs of text is an unclosed tag, not an ad.
                excluded.append(el)
        return subtree_elements(excluded)

    @_computed_once
    def _captions(self) -> frozenset[str]:
        """The caption texts of the story's images: never body text (unless captions are kept)."""
        if self.options.keep_captions:
            return frozenset()
        return frozenset(caption for _, caption in self._story_images if caption)

    @_computed_once
    def paragraphs(self) -> list[str]:
        """The article's paragraphs as printed, from the header's end to the article's end, before cleaning."""
        header = self.header
        key = comparable(self.title or "")
        paragraphs: list[str] = []
        for i in range(header.body_start, self._end_index):
            block = self.blocks[i]
            if i in self.nav_blocks or _link_only(block) or block.element in self._excluded_elements:
                continue
            if self._content is not None and block.element not in self._content:
                continue
            text = header.lead_rest if (i == header.body_start and header.lead_rest is not None) else block.text
            text = self._without_captions(text)
            if text and not (len(paragraphs) < 3 and _is_header_text(text, key)):
                paragraphs.append(text)
        return paragraphs

    def _without_captions(self, text: str) -> str:
        for caption in self._captions:
            if caption in text:
                text = normalize_space(text.replace(caption, " ", 1))
        return text

    @property
    def body(self) -> str:
        """The cleaned article text: paragraphs without boilerplate, separated by a blank line."""
        return "\n\n".join(_STRIPPER.clean_paragraphs(self.paragraphs))

    @_computed_once
    def looks_like_listing(self) -> bool:
        """No dateline and several article links in what would be the body: a listing page."""
        if self.dateline is not None:
            return False
        content = self._content
        outside = {b.element for b in self.blocks if b.element not in content} if content is not None else None
        return sum(link.known for link in self.article_links(self.header.body_start, self._end_index, outside)) >= 3

    @_computed_once
    def _story_images(self) -> list[tuple[Image, str | None]]:
        """Images below the headline that are no site graphics or ads, with their captions."""
        start = self.title_index if self.title_index is not None else max(self.nav_blocks, default=-1) + 1
        found: list[tuple[Image, str | None]] = []
        for image in self._images:
            if image.position > start and self._is_story_image(image):
                caption = self._caption(image.element)
                found.append((image, caption))
        return found

    @property
    def images(self) -> list[Picture]:
        pictures: dict[str, Picture] = {}
        for image, caption in self._story_images:
            url = self.absolute(image.src) if image.position <= self._end_index else None
            if url is not None and url not in pictures:
                pictures[url] = Picture(url, caption)
        return list(pictures.values())

    def _is_story_image(self, image: Image) -> bool:
        el = image.element
        if _SITE_GRAPHIC.search(image.src) or el in self._excluded_elements:
            return False
        width, height = el.get("width", ""), el.get("height", "")
        if (width.isdigit() and int(width) < 60) or (height.isdigit() and int(height) < 60):
            return False
        if width.isdigit() and height.isdigit() and (int(width), int(height)) in AD_SIZES:
            return False
        if any((int(w), int(h)) in AD_SIZES for w, h in _SIZE_IN_NAME.findall(image.src)):
            return False
        for ancestor in el.iterancestors():
            if _AD_MARK.search(_classes(ancestor)) or ancestor.tag == "nav":
                return False
            if ancestor.tag == "a" and _AD_LINK.search(ancestor.get("href", "")):
                return False
        return not _AD_LINK.search(image.src)

    def _caption(self, img: lxml_html.HtmlElement) -> str | None:
        """The text that belongs to the image, beside or under it, in whatever markup the page uses."""
        element = self._caption_element(img)
        if element is None:
            return None
        text = normalize_space(element_text(element))
        if not text or len(text) > _MAX_SLOT_TEXT or parse_dateline(text) or BYLINE.match(text):
            return None
        return text

    def _caption_element(self, img: lxml_html.HtmlElement) -> lxml_html.HtmlElement | None:
        figure = next((a for a in img.iterancestors() if a.tag == "figure"), None)
        if figure is not None:
            return figure.find(".//figcaption")
        anchor = img
        parent = img.getparent()
        if parent is not None and parent.tag == "a" and not (parent.text or "").strip():
            anchor, parent = parent, parent.getparent()
        sibling = anchor.getnext()
        gap = anchor.tail or ""
        while sibling is not None and sibling.tag == "br" and not gap.strip():
            gap = sibling.tail or ""
            sibling = sibling.getnext()
        if not gap.strip() and sibling is not None and _may_caption(sibling):
            return sibling
        if parent is None:
            return None
        if len(parent) <= _MAX_CAPTION_BOX:  # a caption box, not a column of thousands of images
            for candidate in parent.iter():
                if candidate is not img and _CAPTION_MARK.search(_classes(candidate)):
                    return candidate
        if parent.tag in ("div", "td", "center", "span") and len(parent) <= 3:
            # A small box of its own holding the image and a line of text ("<div><img><br>Caption</div>").
            text = normalize_space(element_text(parent))
            if text and len(text) <= _MAX_SLOT_TEXT and not parent.findall(".//p"):
                return parent
            if not text:
                following = parent.getnext()
                if following is not None and _may_caption(following):
                    return following
        return None

    @_computed_once
    def _related_links_index(self) -> int | None:
        for i in range(self.header.body_start, len(self.blocks)):
            if self.blocks[i].text.casefold() == "related links":
                return i
        return None

    @_computed_once
    def related_links(self) -> list[LinkedArticle]:
        """The 'Related Links' list under the body."""
        if self._related_links_index is None:
            return []
        found: list[LinkedArticle] = []
        for block in self.blocks[self._related_links_index + 1 :]:
            if self._content is not None and block.element not in self._content:
                break  # the post navigation and widgets after the entry are no part of it
            link_text = " ".join(link.text for link in block.links)
            if not block.links or normalize_space(link_text) != block.text or is_boilerplate(block.text):
                break
            for link in block.links:
                url = self.absolute(link.href)
                if url:
                    found.append(LinkedArticle(url, link.text))
        return found

    @_computed_once
    def _related_block(self) -> list[LinkedArticle]:
        """The links of the RELATED CONTENT block, in page order, with their labels; the block ends where its own
        element ends, or at the boilerplate after it (a sidebar further down is not part of it)."""
        for i in range(self.header.body_start, len(self.blocks)):
            heading = self.blocks[i]
            if len(heading.text) != len("related content") or heading.text.casefold() != "related content":
                continue
            inside = subtree_elements([_enclosing(heading.element, len(heading.text))])
            end = i + 1
            blocks = self.blocks
            while end < len(blocks) and blocks[end].element in inside and not ends_article(blocks[end].text):
                end += 1
            links = self.article_links(i + 1, end, skip=self._excluded_elements)
            return [link for link in links if link.url != self.canonical_url]
        return []

    @property
    def related(self) -> list[LinkedArticle]:
        """Article links of the RELATED CONTENT block, in page order, with their labels."""
        return [link for link in self._related_block if link.known]

    @property
    def unknown_related(self) -> list[LinkedArticle]:
        """On-site links of RELATED CONTENT whose URLs follow no known article rule: followed once, to see."""
        return [link for link in self._related_block if not link.known]

    @_computed_once
    def canonical_url(self) -> str:
        """The page's URL in canonical form; its rel=canonical link only where it names the same page.

        A canonical link is a claim: one that names another article (a template bug, a hostile page) would make
        this page replace that article's text, so it is noted (`canonical_elsewhere`) and not followed.
        """
        own = self.urls.canonical(self.url)
        claimed = self._canonical_claim
        return claimed if claimed is not None and _path(claimed) == _path(own) else own

    @_computed_once
    def _canonical_claim(self) -> str | None:
        for el in self.root.iter("link"):
            if "canonical" in (el.get("rel") or "").lower().split() and el.get("href"):
                url = self.absolute(el.get("href", ""))
                if url and self.urls.is_on_site(url):
                    return url
        return None

    @_computed_once
    def section(self) -> str | None:
        label = self.header.parts.label
        if label is None:
            for i in range(self.header.start - 1, max(self.header.start - 3, -1), -1):
                if i in self.nav_blocks:
                    break
                if is_label(self.blocks[i].text) and not self.blocks[i].links:
                    label = self.blocks[i].text
                    break
        if label is not None:
            return self.section_name(label)
        meta = self.meta("article:section", "section") or (self._structured.section if self._structured else None)
        if meta:
            return self.section_name(meta)
        category = self._category_link()
        if category:
            return category
        for link in self.related_links:
            name = self.section_of_listing(link.url)
            if name:
                return name
        return None

    def _category_link(self) -> str | None:
        """The first category a WordPress post is filed under (`<a rel="category tag">`, a block theme's
        `.taxonomy-category` terms), as printed."""
        for el in self.root.iter("a"):
            if "category" in _rel(el):
                name = normalize_space(element_text(el))
                if name:
                    return self.section_name(name)
        terms = self._marked_text(_CATEGORY_MARK, first_link=True)
        return self.section_name(terms) if terms else None

    def _marked_text(self, mark: re.Pattern[str], first_link: bool = False) -> str | None:
        """The text of the first element whose class matches `mark` (or of its first link)."""
        for el in self._marked_elements:
            if mark.search(el.get("class") or ""):
                target = el.find(".//a") if first_link else el
                text = normalize_space(element_text(target)) if target is not None else ""
                if text:
                    return text
        return None

    def warnings(self, item: ArticleItem) -> list[str]:
        """What extraction noticed about the finished item (see quality.WARNINGS)."""
        found: list[str] = []
        if self.layout is None:
            found.append(LAYOUT_UNKNOWN)
        if not item.author:
            found.append(NO_BYLINE)
        if not item.dateline:
            found.append(NO_DATELINE)
        if not item.published:
            found.append(NO_DATE)
        elif not (self.dateline and self.dateline.date):
            found.append(DATE_FROM_FALLBACK)
        if not item.section:
            found.append(NO_SECTION)
        first = (item.body or "").split("\n\n", 1)[0]
        if item.title and comparable(first[: len(item.title) + 20]).startswith(comparable(item.title)):
            found.append(BODY_STARTS_WITH_HEADLINE)
        if split_leading_dateline(first[:200]) or (len(first) <= 80 and (parse_dateline(first) or BYLINE.match(first))):
            found.append(HEADER_IN_BODY)
        if len(item.body or "") < _SHORT_BODY:
            found.append(SHORT_BODY)
        if self._canonical_claim is not None and self._canonical_claim != item.url:
            found.append(CANONICAL_ELSEWHERE)
        return found

    def to_item(self, hints: CrawlHints | None = None) -> ArticleItem | RejectedPage:
        """The finished, cleaned article, or the reason the page is none."""
        hints = hints or CrawlHints()
        if self.is_wordpress_page:
            return RejectedPage(self.url, NOT_AN_ARTICLE, "a WordPress page, not a post")
        if self.looks_like_listing:
            return RejectedPage(self.url, NOT_AN_ARTICLE, "the page lists articles")
        title, body = self.title, self.body
        if not title:
            return RejectedPage(self.url, MISSING_TITLE)
        if not body:
            return RejectedPage(self.url, MISSING_BODY)
        dateline, section = self.dateline, self.section or hints.section
        published = self.published.isoformat() if self.published else hints.published
        item = ArticleItem(
            url=self.canonical_url,
            site=self.urls.host,
            section=section,
            section_slug=slugify(section) if section else None,
            title=title,
            author=self.author,
            dateline=dateline.raw if dateline else None,
            location=dateline.location if dateline else None,
            agency=dateline.agency if dateline else None,
            published=published,
            body=body,
            images=[{"url": p.url, "caption": p.caption} for p in self.images],
            related=[{"url": r.url, "title": r.title} for r in self.related],
            related_links=[{"url": r.url, "title": r.title} for r in self.related_links],
            content_hash=content_hash(title, body),
            layout=self.layout.name if self.layout else UNKNOWN_LAYOUT,
            modified=self.modified,
            aliases=sorted(set(hints.aliases) - {self.canonical_url}),
        )
        item.warnings = self.warnings(item)
        return item


@dataclass(frozen=True)
class Extraction:
    result: ArticleItem | RejectedPage
    page: ArticlePage | None
    """The page read (for the links a crawl follows from it); None when it could not be read at all."""


def extract_article(
    content: str | bytes,
    url: str,
    content_type: str | None = None,
    options: ParserOptions | None = None,
    hints: CrawlHints | None = None,
) -> Extraction:
    """The one way from a fetched page to an article: the finished item, or a reject that says why.

    A parser bug costs this one page (a `parse_error` reject), never the caller's run.
    """
    page = None
    try:
        page = ArticlePage(content, url, content_type, options)
        return Extraction(page.to_item(hints), page)
    except Exception as exc:  # any parser bug: recorded as this page's reject
        logger.exception("Could not parse %s", url)
        return Extraction(RejectedPage(url, PARSE_ERROR, f"{type(exc).__name__}: {str(exc)[:200]}"), None)


class _Lazy:
    """An iterator's items, read once as they are first wanted, then iterable again from the start."""

    def __init__(self, items: Iterator[str]) -> None:
        self._items = items
        self._seen: list[str] = []

    def __iter__(self) -> Iterator[str]:
        yield from self._seen
        for item in self._items:
            self._seen.append(item)
            yield item


def _path(url: str) -> str:
    return urlsplit(url).path


def _initial(text: str) -> str:
    """The first letter or digit of `text`, case-folded ("" if none near the start)."""
    if text[:1].isalnum():  # nearly every block: no generator
        return text[0].casefold()[0]
    return next((char.casefold()[0] for char in text[:8] if char.isalnum()), "")


def _may_caption(element: lxml_html.HtmlElement) -> bool:
    return element.tag in _CAPTION_TAGS or bool(_CAPTION_MARK.search(_classes(element)))


def _is_header_text(text: str, headline_key: str) -> bool:
    """A repeated headline, a byline or a dateline standing alone in the body (all short lines)."""
    if len(text) > max(len(headline_key) * 2, 160):
        return False
    return bool((headline_key and comparable(text) == headline_key) or BYLINE.match(text) or parse_dateline(text))


def _rel(link: lxml_html.HtmlElement) -> list[str]:
    return (link.get("rel") or "").lower().split()


def _holds_page(element: lxml_html.HtmlElement) -> bool:
    """A "navigation" class on the page itself (WordPress themes' body.has-main-navigation), not a bar: it holds
    the page's main content or its headline."""
    return element.tag in ("html", "body") or _PAGE_CONTENT(element)


def _enclosing(element: lxml_html.HtmlElement, own_length: int) -> lxml_html.HtmlElement:
    """The nearest ancestor that holds more than the heading itself: the block a heading belongs to."""
    for ancestor in element.iterancestors():
        text = element_text(ancestor)
        # A prefix decides nearly always: normalizing all of a page-sized ancestor costs more than the rest.
        if len(normalize_space(text[: 4 * own_length + 200])) > own_length or len(normalize_space(text)) > own_length:
            return ancestor
    return element


class ListingPage(SitePage):
    """A section listing page: the section it names, its article links and older pages."""

    @_computed_once
    def section(self) -> str | None:
        """The section named by the page's heading (h1/h2 or an upper-case label)."""
        own = self.section_of_listing(self.urls.canonical(self.url))
        if own:
            return own
        for block in self.blocks:
            if any(a.tag in ("h1", "h2") for a in _ancestors_and_self(block.element)) or is_label(block.text):
                for name in self.sections:
                    if slugify(name) in slugify(block.text):
                        return name
        return None

    @_computed_once
    def articles(self) -> list[LinkedArticle]:
        content = [i for i in range(len(self.blocks)) if i not in self.nav_blocks]
        return self.article_links(content[0] if content else 0, skip=self._page_footer)

    @_computed_once
    def _page_footer(self) -> set[lxml_html.HtmlElement]:
        """The page's own footer (a <footer> outside any <article>: privacy policy, imprint), whose links are no
        headlines."""
        footers = [el for el in self.root.iter("footer") if next(el.iterancestors("article"), None) is None]
        return subtree_elements(footers)

    @_computed_once
    def older_pages(self) -> list[str]:
        """Links to older listing pages of the same section ('Older Superpowers News')."""
        pages: dict[str, None] = {}  # in page order, each once, in linear time
        for i, block in enumerate(self.blocks):
            for link in block.links:
                # A pager may be a <nav> of its own (WordPress's "navigation pagination"): there only its "next" link.
                pager = link.element.get("rel") in ("next", "prev") or "next" in (link.element.get("class") or "")
                if i in self.nav_blocks and not pager:
                    continue
                url = self.absolute(link.href)
                if (
                    url
                    and url not in pages
                    and url != self.urls.canonical(self.url)
                    and self.urls.is_listing_candidate(url)
                    and (_OLDER_LINK.search(link.text) or pager)
                ):
                    pages[url] = None
        return list(pages)

    @property
    def is_listing(self) -> bool:
        return any(link.known for link in self.articles)
