"""The `spacewar` spider: sections -> listing pages -> articles -> related content."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spacewar_crawler.feeds import MalformedFeed, feed_entries
from spacewar_crawler.incremental import ARTICLE_META, SkippedArticle
from spacewar_crawler.items import ArticleItem, RejectedPage
from spacewar_crawler.pages import (
    ArticlePage,
    CrawlHints,
    LinkedArticle,
    ListingPage,
    ParserOptions,
    extract_article,
)
from spacewar_crawler.signals import archive_opened, listing_fetched
from spacewar_crawler.site_urls import DEFAULT_BASE_URL, SiteUrls, slugify
from spacewar_crawler.warc import LOCATION_META

logger = logging.getLogger(__name__)


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1")


class SpacewarSpider(scrapy.Spider):
    """Walks the site from its navigation bar and feeds through section listings to articles.

    Arguments (`-a`): `base_url` (site root), `section` (slug or display name: crawl one
    section), `refresh=1` (fetch archived articles again), `feeds=0` (no RSS start pages).
    Archived articles are skipped before they are scheduled; listing pages are asked for
    with the validators of the last finished run, and a 304 counts as "unchanged". A full
    run also asks again for articles that earlier runs failed to fetch (see storage).
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
        self.feeds = _flag(feeds) and self.section_slug is None
        self.archived: frozenset[str] = frozenset()
        self.listing_validators: dict[str, dict[str, str]] = {}
        self.retry_urls: list[str] = []
        self._scheduled: set[str] = set()
        self.feed_dates: dict[str, str] = {}
        self.parser_options = ParserOptions()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SpacewarSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.parser_options = ParserOptions.from_settings(crawler.settings)
        crawler.signals.connect(spider.archive_opened, signal=archive_opened)
        return spider

    def archive_opened(
        self, archived_urls: frozenset[str], listing_validators: dict[str, dict[str, str]], retry_urls: list[str]
    ) -> None:
        self.archived = archived_urls
        self.listing_validators = listing_validators
        self.retry_urls = retry_urls

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.urls.root, callback=self.parse_home, errback=self.on_error)
        if self.feeds:
            for path in self.settings.getlist("SPACEWAR_FEEDS"):
                # Feeds first: their dates are a fallback for pages that print none.
                yield scrapy.Request(
                    urljoin(self.urls.root, path), callback=self.parse_feed, errback=self.on_error, priority=10
                )
        if not self.section_slug:
            # Articles an earlier run could not fetch: their listing may answer 304 now, or only an
            # archived article linked to them.
            for url in self.retry_urls:
                request = self._article_request(url, None)
                if request is not None:
                    self._count("articles/retried")
                    yield request

    def _count(self, key: str, value: int = 1) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"spacewar/{key}", value)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self._count("pages/home")
        if not isinstance(response, TextResponse):
            return
        home = ListingPage(response.body, response.url, _content_type(response))
        sections = home.sections
        if self.section_slug:
            chosen = {name: url for name, url in sections.items() if slugify(name) == self.section_slug}
            if not chosen:
                known = ", ".join(f"{slugify(name)} ({name})" for name in sections) or "none found"
                logger.error("Unknown section %r. Known sections: %s", self.section_slug, known)
                raise CloseSpider("unknown_section")
            sections = chosen
        else:
            yield from self._article_requests(home.articles, section=None)
        for name, url in sections.items():
            yield self._listing_request(url, name)

    def parse_feed(self, response: Response) -> Iterator[scrapy.Request]:
        try:
            entries = feed_entries(response.body, response.url)
        except MalformedFeed as exc:
            self._count("feeds/malformed")
            logger.warning("Malformed feed %s: %s", response.url, exc)
            return
        self._count("feeds/read")
        for entry in entries:
            if self.urls.is_article(entry.url):
                if entry.published:
                    self.feed_dates.setdefault(entry.url, entry.published.date().isoformat())
                request = self._article_request(entry.url, None)
                if request is not None:
                    yield request

    def _listing_request(self, url: str, section: str | None, priority: int = 0) -> scrapy.Request:
        headers: dict[str, str] = {}
        validators = self.listing_validators.get(url, {}) if not self.refresh else {}
        if validators.get("etag"):
            headers["If-None-Match"] = validators["etag"]
        if validators.get("last_modified"):
            headers["If-Modified-Since"] = validators["last_modified"]
        return scrapy.Request(
            url,
            headers=headers,
            callback=self.parse_listing,
            errback=self.on_error,
            cb_kwargs={"section": section},
            meta={"handle_httpstatus_list": [304]},
            priority=priority,
        )

    def parse_listing(self, response: Response, section: str | None = None) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self._count("listings/unchanged")
            return
        if not isinstance(response, TextResponse):
            self._count("pages/not_listing")
            return
        listing = ListingPage(response.body, response.url, _content_type(response))
        if not listing.is_listing:
            self._count("pages/not_listing")
            return
        self._count("pages/listing")
        self.crawler.signals.send_catch_log(
            listing_fetched,
            url=response.url,
            etag=response.headers.get("ETag", b"").decode("latin-1") or None,
            last_modified=response.headers.get("Last-Modified", b"").decode("latin-1") or None,
        )
        name = listing.section or section
        yield from self._article_requests(listing.articles, section=name)
        for url in listing.older_pages:
            # After this page's articles: the queue stays one listing page deep, whatever the archive's size.
            yield self._listing_request(url, name, priority=-1)

    def parse_article(
        self, response: Response, section: str | None = None
    ) -> Iterator[ArticleItem | RejectedPage | scrapy.Request]:
        self._count("pages/article")
        if not isinstance(response, TextResponse):
            yield RejectedPage(response.url, "not_html")
            return
        hints = CrawlHints(section=section, published=self.feed_dates.get(self.urls.canonical(response.url)))
        extraction = extract_article(response.body, response.url, _content_type(response), self.parser_options, hints)
        item, page = extraction.result, extraction.page
        if isinstance(item, RejectedPage) or page is None:
            if item.reason.startswith("parse_error"):
                self._count("parse_errors")
            yield item
            return
        item.fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        location = response.meta.get(LOCATION_META)
        if location:
            item.warc_file, item.warc_offset = location["file"], location["offset"]
        self._count(f"layout/{item.layout}")
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
            request = self._article_request(link.url, page.section_name(link.label) if link.label else None)
            if request is not None:
                yield request
        if not self.section_slug:
            for link in page.related_links:
                if self.urls.is_listing_candidate(link.url):
                    yield self._listing_request(link.url, page.section_of_listing(link.url))

    def _article_requests(self, links: list[LinkedArticle], section: str | None) -> Iterator[scrapy.Request]:
        for link in links:
            if self.urls.is_article(link.url):
                request = self._article_request(link.url, section)
                if request is not None:
                    yield request

    def _article_request(self, url: str, section: str | None) -> scrapy.Request | None:
        """A request for an article not archived and not yet scheduled in this run, else None."""
        if url in self._scheduled:
            return None
        self._scheduled.add(url)
        if url in self.archived and not self.refresh:
            self._count("articles/skipped_archived")
            return None
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_article_error,
            cb_kwargs={"section": section},
            meta={ARTICLE_META: True},
            dont_filter=True,  # ArticleGate does the duplicate filtering of articles
        )

    def on_error(self, failure: Failure) -> None:
        if _skipped_on_purpose(failure):
            return
        self._count(f"fetch_failed/{_failure_reason(failure)}")
        logger.warning("Could not fetch %s: %s", getattr(failure.request, "url", "?"), failure.getErrorMessage())

    def on_article_error(self, failure: Failure) -> Iterator[RejectedPage]:
        self.on_error(failure)
        request = getattr(failure, "request", None)
        if request is not None and not _skipped_on_purpose(failure):
            yield RejectedPage(request.url, f"fetch_failed: {_failure_reason(failure)}")


def _skipped_on_purpose(failure: Failure) -> bool:
    """Archived, duplicate or forbidden by robots.txt: counted where decided, not a failure."""
    if failure.check(SkippedArticle):
        return True
    return bool(failure.check(IgnoreRequest)) and "robots.txt" in str(failure.value)


def _failure_reason(failure: Failure) -> str:
    response = getattr(failure.value, "response", None)
    if response is not None:
        return f"http_{response.status}"
    if failure.check(IgnoreRequest) and "redirect loop" in str(failure.value):
        return "redirect_loop"
    if failure.check(IgnoreRequest) and "redirections" in str(failure.value):
        return "too_many_redirects"
    return type(failure.value).__name__
