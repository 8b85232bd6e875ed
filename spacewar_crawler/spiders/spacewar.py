"""The `spacewar` spider: sections -> listing pages -> articles -> related content."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any

import scrapy
from scrapy.exceptions import CloseSpider
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spacewar_crawler.items import ArticleItem, RejectedPage
from spacewar_crawler.pages import ArticlePage, ListingPage
from spacewar_crawler.site_urls import DEFAULT_BASE_URL, SiteUrls, slugify

logger = logging.getLogger(__name__)


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


class SpacewarSpider(scrapy.Spider):
    """Walks the site from its navigation bar through section listings to articles.

    Arguments (`-a`): `base_url` (site root), `section` (slug or display name: crawl one
    section), `refresh`, `feeds` (see INTERFACE.md).
    """

    name = "spacewar"

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        section: str | None = None,
        refresh: str = "0",
        feeds: str = "1",
        *args: Any,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.arguments = {"base_url": base_url, "section": section, "refresh": refresh, "feeds": feeds}
        self.urls = SiteUrls(base_url)
        self.allowed_domains = [self.urls.allowed_domain]
        self.section_slug = slugify(section) if section else None
        self.refresh = _flag(refresh)
        self.feeds = _flag(feeds)
        self.section_name: str | None = None

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.urls.root, callback=self.parse_home, errback=self.on_error)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"spacewar/{key}")

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self._count("pages/home")
        if not isinstance(response, TextResponse):
            return
        home = ListingPage(response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"))
        sections = home.sections
        if self.section_slug:
            chosen = {name: url for name, url in sections.items() if slugify(name) == self.section_slug}
            if not chosen:
                known = ", ".join(f"{slugify(name)} ({name})" for name in sections) or "none found"
                logger.error("Unknown section %r. Known sections: %s", self.section_slug, known)
                raise CloseSpider("unknown_section")
            self.section_name = next(iter(chosen))
            sections = chosen
        else:
            yield from self._article_requests(home.articles, section=None)
        for name, url in sections.items():
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error, cb_kwargs={"section": name})

    def parse_listing(self, response: Response, section: str | None = None) -> Iterator[scrapy.Request]:
        if not isinstance(response, TextResponse):
            self._count("pages/not_listing")
            return
        listing = ListingPage(response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"))
        if not listing.is_listing:
            self._count("pages/not_listing")
            return
        self._count("pages/listing")
        name = listing.section or section
        yield from self._article_requests(listing.articles, section=name)
        for url in listing.older_pages:
            yield scrapy.Request(url, callback=self.parse_listing, errback=self.on_error, cb_kwargs={"section": name})

    def parse_article(
        self, response: Response, section: str | None = None
    ) -> Iterator[ArticleItem | RejectedPage | scrapy.Request]:
        self._count("pages/article")
        if not isinstance(response, TextResponse):
            yield RejectedPage(response.url, "not_html")
            return
        try:
            page = ArticlePage(response.body, response.url, response.headers.get("Content-Type", b"").decode("latin-1"))
            fields = page.fields()
        except Exception as exc:  # a parser bug must cost one page, not the crawl
            logger.exception("Could not parse %s", response.url)
            self._count("parse_errors")
            yield RejectedPage(response.url, f"parse_error: {type(exc).__name__}: {exc}")
            return
        item = ArticleItem(**fields, fetched_at=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))  # type: ignore[arg-type]
        if item.section is None and section is not None:
            item.section, item.section_slug = section, slugify(section)
        if self.section_slug and item.section_slug != self.section_slug:
            self._count("articles/other_section")
        else:
            self._count("articles/yielded")
            yield item
        yield from self._follow_related(page)

    def _follow_related(self, page: ArticlePage) -> Iterator[scrapy.Request]:
        for link in page.related:
            if not self.urls.is_article(link.url):
                continue  # sister-site articles are recorded in `related`, not fetched
            if self.section_slug and (link.label is None or slugify(link.label) != self.section_slug):
                continue
            section = page.section_name(link.label) if link.label else None
            yield self._article_request(link.url, section)
        if not self.section_slug:
            for link in page.related_links:
                if self.urls.is_listing_candidate(link.url):
                    yield scrapy.Request(link.url, callback=self.parse_listing, errback=self.on_error)

    def _article_requests(self, links: list[Any], section: str | None) -> Iterator[scrapy.Request]:
        for link in links:
            if self.urls.is_article(link.url):
                yield self._article_request(link.url, section)

    def _article_request(self, url: str, section: str | None) -> scrapy.Request:
        return scrapy.Request(
            url, callback=self.parse_article, errback=self.on_article_error, cb_kwargs={"section": section}
        )

    def on_error(self, failure: Failure) -> None:
        self._count(f"fetch_failed/{_failure_reason(failure)}")
        logger.warning("Could not fetch %s: %s", getattr(failure.request, "url", "?"), failure.getErrorMessage())

    def on_article_error(self, failure: Failure) -> Iterator[RejectedPage]:
        self.on_error(failure)
        request = getattr(failure, "request", None)
        if request is not None:
            yield RejectedPage(request.url, f"fetch_failed: {_failure_reason(failure)}")


def _failure_reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"http_{response.status}"
    return type(failure.value).__name__
