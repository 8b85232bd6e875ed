"""The `spacewar` spider: sections -> listing pages -> articles -> related content."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from twisted.python.failure import Failure

from spacewar_crawler import stats as keys
from spacewar_crawler.items import ArticleItem, RejectedPage
from spacewar_crawler.middlewares import (
    ARTICLE_META,
    LISTING_META,
    LOCATION_META,
    CrawlState,
    OffsiteRequest,
    RedirectLoop,
    SkippedArticle,
)
from spacewar_crawler.reading.article import FETCH_FAILED, NOT_HTML, OFFSITE_REDIRECT, PARSE_ERROR
from spacewar_crawler.reading.feeds import MalformedFeed, feed_entries
from spacewar_crawler.reading.pages import (
    ArticlePage,
    CrawlHints,
    LinkedArticle,
    ListingPage,
    ParserOptions,
    extract_article,
)
from spacewar_crawler.reading.quality import ORIGINAL_NOT_KEPT
from spacewar_crawler.site.urls import DEFAULT_BASE_URL, SiteUrls, slugify

logger = logging.getLogger(__name__)


def _flag(value: object) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def _content_type(response: Response) -> str:
    return response.headers.get("Content-Type", b"").decode("latin-1")


class SpacewarSpider(scrapy.Spider):
    """Walks the site from its navigation bar and feeds through section listings to articles.

    Arguments (`-a`): `base_url` (site root), `section` (slug or display name: crawl one
    section), `refresh=1` (fetch archived articles again), `feeds=0` (no RSS start pages).
    What the archive knows (archived articles, listing validators, articles to ask for
    again) is `middlewares.CrawlState`'s; the spider hands it its arguments as settings and
    counts a listing's 304 as "unchanged".
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
        parts = urlsplit(base_url)
        if parts.username or parts.password:
            # Never sent, logged or stored: the network's sites need no login.
            base_url = urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))
            logger.warning("base_url carried a user name or password: they are dropped (%s)", base_url)
        self.arguments = {"base_url": base_url, "section": section, "refresh": refresh, "feeds": feeds}
        self.urls = SiteUrls(base_url)
        self.allowed_domains = [self.urls.allowed_domain]
        self.section_slug = slugify(section) if section else None
        self.feeds = _flag(feeds) and self.section_slug is None
        self.feed_dates: dict[str, str] = {}
        self.parser_options = ParserOptions()
        self.max_older_pages = 0
        self._listed: set[str] = set()
        self._older_pages: Counter[str] = Counter()

    @classmethod
    def from_crawler(cls, crawler: Any, *args: Any, **kwargs: Any) -> SpacewarSpider:
        spider = super().from_crawler(crawler, *args, **kwargs)
        # The arguments that other components act on become settings (the spider's are applied before Scrapy's
        # components are built): the crawl state's site, section and refresh, and the run record's arguments.
        settings = crawler.settings
        settings.set("SPACEWAR_BASE_URL", spider.urls.root, priority="spider")
        settings.set("SPACEWAR_SECTION", spider.section_slug, priority="spider")
        settings.set("SPACEWAR_REFRESH", _flag(spider.arguments["refresh"]), priority="spider")
        settings.set("SPACEWAR_RUN_ARGS", spider.arguments, priority="spider")
        spider.parser_options = ParserOptions.from_settings(settings)
        spider.max_older_pages = settings.getint("SPACEWAR_MAX_OLDER_PAGES")
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.urls.root, callback=self.parse_home, errback=self.on_home_error)
        if self.feeds:
            for path in self.settings.getlist("SPACEWAR_FEEDS"):
                # Feeds first: their dates are a fallback for pages that print none.
                yield scrapy.Request(
                    urljoin(self.urls.root, path), callback=self.parse_feed, errback=self.on_error, priority=10
                )
        state = self.crawler.get_downloader_middleware(CrawlState)
        again = ((state.retry_urls, keys.ARTICLES_RETRIED), (state.linked_urls, keys.ARTICLES_LINKED)) if state else ()
        for urls, key in again:
            # Articles an earlier run could not fetch, or never got to: their listing may answer 304 now, or only an
            # archived article links to them.
            for url in urls:
                self._count(key)
                yield self._article_request(url, None)

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)

    def parse_home(self, response: Response) -> Iterator[scrapy.Request]:
        self._count(keys.PAGES_HOME)
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
            feed = feed_entries(response.body, response.url)
        except MalformedFeed as exc:
            self._count(keys.FEEDS_MALFORMED)
            logger.warning("Malformed feed %s: %s", response.url, exc)
            return
        self._count(keys.FEEDS_READ)
        if feed.recovered:
            self._count(keys.FEEDS_RECOVERED)
            logger.warning("Broken feed %s: read what it held up to the break", response.url)
        for entry in feed.entries:
            if self.urls.is_article(entry.url):
                if entry.published:
                    self.feed_dates.setdefault(entry.url, entry.published.isoformat())
                yield self._article_request(entry.url, None)

    def _listing_request(self, url: str, section: str | None, priority: int = 0, older: bool = False) -> scrapy.Request:
        return scrapy.Request(
            url,
            callback=self.parse_listing,
            errback=self.on_error,
            cb_kwargs={"section": section, "older": older},
            meta={"handle_httpstatus_list": [304], LISTING_META: True},
            priority=priority,
        )

    def parse_listing(
        self, response: Response, section: str | None = None, older: bool = False
    ) -> Iterator[scrapy.Request]:
        if response.status == 304:
            self._count(keys.LISTINGS_UNCHANGED)
            return
        if not isinstance(response, TextResponse):
            self._count(keys.PAGES_NOT_LISTING)
            return
        listing = ListingPage(response.body, response.url, _content_type(response))
        if not listing.is_listing:
            self._count(keys.PAGES_NOT_LISTING)
            return
        self._count(keys.PAGES_LISTING)
        name = listing.section or section
        new = [link for link in listing.articles if link.url not in self._listed]
        self._listed.update(link.url for link in new)
        if older and not new:
            # An older page that lists only what this run has seen: a trap (?page=N for ever), or the end.
            self._count(keys.LISTINGS_NOTHING_NEW)
            logger.info("Older listing page %s lists nothing new: not going further back there", response.url)
            return
        yield from self._article_requests(listing.articles, section=name)
        for url in listing.older_pages:
            if self._older_pages[name or ""] >= self.max_older_pages:
                self._count(keys.LISTINGS_DEPTH_LIMIT)
                logger.info("Section %s: %d older listing pages followed, the most SPACEWAR_MAX_OLDER_PAGES allows",
                            name, self.max_older_pages)  # fmt: skip
                break
            self._older_pages[name or ""] += 1
            # After this page's articles: the queue stays one listing page deep, whatever the archive's size.
            yield self._listing_request(url, name, priority=-1, older=True)

    def parse_article(
        self, response: Response, section: str | None = None
    ) -> Iterator[ArticleItem | RejectedPage | scrapy.Request]:
        self._count(keys.PAGES_ARTICLE)
        if not isinstance(response, TextResponse):
            yield RejectedPage(response.url, NOT_HTML, response.headers.get("Content-Type", b"").decode("latin-1"))
            return
        hints = CrawlHints(section=section, published=self.feed_dates.get(self.urls.canonical(response.url)))
        extraction = extract_article(response.body, response.url, _content_type(response), self.parser_options, hints)
        item, page = extraction.result, extraction.page
        if isinstance(item, RejectedPage) or page is None:
            if item.kind == PARSE_ERROR:
                self._count(keys.PARSE_ERRORS)
            yield item
            return
        item.fetched_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        location = response.meta.get(LOCATION_META)
        if location:
            item.warc_file, item.warc_offset = location["file"], location["offset"]
        elif LOCATION_META in response.meta:  # WARC on, but the original could not be written
            item.warnings.append(ORIGINAL_NOT_KEPT)
        self._count(keys.LAYOUT + item.layout)
        if self.section_slug and item.section_slug != self.section_slug:
            self._count(keys.ARTICLES_OTHER_SECTION)
        else:
            self._count(keys.ARTICLES_YIELDED)
            yield item
        yield from self._follow_related(page)

    def _follow_related(self, page: ArticlePage) -> Iterator[scrapy.Request]:
        for link in page.related:
            if not self.urls.is_article(link.url):
                continue  # sister-site articles are recorded in `related`, not fetched
            if self.section_slug and (link.label is None or slugify(link.label) != self.section_slug):
                continue
            yield self._article_request(link.url, page.section_name(link.label) if link.label else None)
        if not self.section_slug:
            for link in page.related_links:
                if self.urls.is_listing_candidate(link.url):
                    yield self._listing_request(link.url, page.section_of_listing(link.url))

    def _article_requests(self, links: list[LinkedArticle], section: str | None) -> Iterator[scrapy.Request]:
        for link in links:
            if self.urls.is_article(link.url):
                yield self._article_request(link.url, section)

    def _article_request(self, url: str, section: str | None) -> scrapy.Request:
        self._count(keys.ARTICLE_LINKS)
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_article_error,
            cb_kwargs={"section": section},
            meta={ARTICLE_META: True},
            dont_filter=True,  # CrawlState lets each article through once a run, and sees redirect loops
        )

    def closed(self, reason: str) -> None:
        """A full run that finds no article on a site whose archive has its articles has not worked, whatever
        Scrapy's close reason says: the site's pages or URLs have changed (a move to new software)."""
        state = self.crawler.get_downloader_middleware(CrawlState)
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        found = stats.get(keys.ARTICLE_LINKS, 0) or stats.get(keys.LISTINGS_UNCHANGED, 0)
        if reason == "finished" and not self.section_slug and not found and state and state.archived:
            self._count(keys.NO_ARTICLES)
            logger.error(
                "Found no article on %s, whose archive holds %d of its articles: its pages or URLs have changed "
                "(see the README on other sites and generations)",
                self.urls.root,
                len(state.archived),
            )

    def on_error(self, failure: Failure) -> None:
        self._record_failure(failure)

    def on_home_error(self, failure: Failure) -> None:
        """Without its home page a run learns no section: it has not reached the site, and must not say "nothing
        new"."""
        if self._record_failure(failure) is not None:
            self._count(keys.HOME_FAILED)
            logger.error("Could not fetch the site's home page %s: %s", self.urls.root, failure.getErrorMessage()[:300])

    def on_article_error(self, failure: Failure) -> Iterator[RejectedPage]:
        reject = self._record_failure(failure)
        if reject is not None:
            yield reject

    def _record_failure(self, failure: Failure) -> RejectedPage | None:
        reject = fetch_failure(failure)
        if reject is not None:
            self._count(keys.FETCH_FAILED + (reject.detail if reject.kind == FETCH_FAILED else reject.kind))
            logger.warning("Could not fetch %s: %s", reject.url, failure.getErrorMessage()[:300])
        return reject


def fetch_failure(failure: Failure) -> RejectedPage | None:
    """The failure to fetch a page, typed where it happened; None for a request skipped on purpose
    (archived, a duplicate, forbidden by robots.txt), which is counted where that was decided."""
    if failure.check(SkippedArticle):
        return None
    # Scrapy's robots.txt and redirect limits raise a plain IgnoreRequest: its message is all they say.
    message = str(failure.value)
    if failure.check(IgnoreRequest) and not failure.check(RedirectLoop) and "robots.txt" in message:
        return None
    url = getattr(getattr(failure, "request", None), "url", "?")
    response = getattr(failure.value, "response", None)
    if response is not None:
        lasting = 400 <= response.status < 500 and response.status not in (408, 429)
        return RejectedPage(url, FETCH_FAILED, f"http_{response.status}", response.status, lasting)
    if failure.check(RedirectLoop):
        return RejectedPage(url, FETCH_FAILED, "redirect_loop", lasting=True)
    if failure.check(OffsiteRequest):
        origin = (failure.request.meta.get("redirect_urls") or [url])[0]
        return RejectedPage(origin, OFFSITE_REDIRECT, f"to {url}"[:300], lasting=True)
    if "max size" in message:  # DOWNLOAD_MAXSIZE: Scrapy cancels the download or drops the decompressed body
        return RejectedPage(url, FETCH_FAILED, "too_large", lasting=True)
    if failure.check(IgnoreRequest) and "redirections" in message:
        return RejectedPage(url, FETCH_FAILED, "too_many_redirects", lasting=True)
    return RejectedPage(url, FETCH_FAILED, type(failure.value).__name__)
