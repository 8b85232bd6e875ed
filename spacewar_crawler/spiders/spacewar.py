"""The `spacewar` spider: sections -> listing pages -> articles -> related content, on any network site.

The home page tells the site's generation (reading/generation.py). The classic template is
walked from its navigation bar's section pages and its feeds; a WordPress site from its
sitemaps, its feeds, its category pages and its REST API, which together say what changed
since the last run.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit, urlunsplit

import scrapy
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response, TextResponse
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from spacewar_crawler import stats as keys
from spacewar_crawler.items import ArticleItem, RejectedPage
from spacewar_crawler.middlewares import (
    ARTICLE_META,
    CHANGED_META,
    LISTING_META,
    LOCATION_META,
    CrawlState,
    OffsiteRequest,
    RedirectLoop,
    SkippedArticle,
)
from spacewar_crawler.reading.article import FETCH_FAILED, NOT_AN_ARTICLE, NOT_HTML, OFFSITE_REDIRECT, PARSE_ERROR
from spacewar_crawler.reading.feeds import MalformedFeed, feed_entries
from spacewar_crawler.reading.generation import LOOKED_FOR, detect_generation
from spacewar_crawler.reading.pages import (
    ArticlePage,
    CrawlHints,
    LinkedArticle,
    ListingPage,
    ParserOptions,
    extract_article,
)
from spacewar_crawler.reading.quality import ORIGINAL_NOT_KEPT
from spacewar_crawler.site.urls import DEFAULT_BASE_URL, WORDPRESS, SiteUrls, register_network_hosts, slugify

logger = logging.getLogger(__name__)

PROBE_META = "spacewar_probe"
"""An article request for an on-site link whose URL follows no known rule: kept only if it reads as an article."""
# WordPress's sub-sitemaps of pages, people and taxonomies list no posts.
_NO_POSTS_SITEMAP = ("-page", "page-sitemap", "users", "author", "taxonomies", "category", "tag")
_GZIP_MAGIC = b"\x1f\x8b"


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
        self.max_unknown_links = 0
        self._unknown_links = 0
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
        spider.max_unknown_links = settings.getint("SPACEWAR_MAX_UNKNOWN_LINKS")
        register_network_hosts(settings.getlist("SPACEWAR_EXTRA_NETWORK_HOSTS"))
        return spider

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.urls.root, callback=self.parse_home, errback=self.on_home_error)
        if self.feeds:
            # The configured feeds first, whatever the generation: their dates are a fallback for pages that print none.
            for path in self.settings.getlist("SPACEWAR_FEEDS"):
                yield self._feed_request(urljoin(self.urls.root, path))
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
            self._unknown_generation(response.url, "the home page is no HTML page")
            return
        home = ListingPage(response.body, response.url, _content_type(response))
        generation = detect_generation(home)
        if generation.name is None:
            self._unknown_generation(response.url, "none of it was on the home page")
            return
        self._count(keys.GENERATION + generation.name)
        logger.info("%s serves the %s generation: %s", response.url, generation.name, "; ".join(generation.evidence))
        self._adopt(response.url, generation.name)
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
        if generation.name == WORDPRESS:
            yield from self._wordpress_requests(sections)
        elif self.feeds:
            yield from self._classic_feed_requests(home)
        for name, url in sections.items():
            yield self._listing_request(url, name)

    def _classic_feed_requests(self, home: ListingPage) -> Iterator[scrapy.Request]:
        """The feeds the home page announces (those of SPACEWAR_FEEDS among them are asked for once)."""
        announced = [
            url
            for el in home.root.iter("link")
            if "alternate" in (el.get("rel") or "").lower() and "rss" in (el.get("type") or "").lower()
            for url in (home.absolute(el.get("href") or ""),)
            if url and self.urls.is_on_site(url)
        ]
        for url in dict.fromkeys(announced):
            yield self._feed_request(url)

    def _unknown_generation(self, url: str, why: str) -> None:
        self._count(keys.GENERATION_UNKNOWN)
        logger.error("Cannot tell which generation %s serves: looked for %s; %s", url, LOOKED_FOR, why)

    def _adopt(self, home_url: str, generation: str) -> None:
        """The site's rules from what its home page showed: its generation, and its host if the home page
        redirected to the other of its www./bare hosts (the network's sites moved to the bare host with WordPress)."""
        landed = SiteUrls(home_url)
        if landed.netloc != self.urls.netloc:
            self._count(keys.SITE_MOVED)
            logger.info("The site answers at %s, not %s: its URLs are taken from there", landed.root, self.urls.root)
        self.urls = SiteUrls(landed.root, generation)
        state = self.crawler.get_downloader_middleware(CrawlState)
        if state is not None:
            state.note_generation(generation, self.urls.root)

    def _wordpress_requests(self, sections: dict[str, str]) -> Iterator[scrapy.Request]:
        """A WordPress site's other sources of posts: sitemaps (from robots.txt), feeds, the REST API."""
        for url in sections.values():
            yield self._feed_request(urljoin(url, "feed/"))
        if self.section_slug:
            return  # a section run keeps to its category
        yield scrapy.Request(
            urljoin(self.urls.root, "robots.txt"),
            callback=self.parse_robots,
            errback=self.on_robots_error,
            dont_filter=True,
        )
        if self.feeds:
            yield self._feed_request(urljoin(self.urls.root, "feed/"))
        yield self._posts_api_request(1)

    def _feed_request(self, url: str) -> scrapy.Request:
        return scrapy.Request(url, callback=self.parse_feed, errback=self.on_error, priority=10)

    def parse_robots(self, response: Response) -> Iterator[scrapy.Request]:
        named = sitemap_urls_from_robots(response.body, base_url=response.url)
        named = [url for url in named if self.urls.is_on_site(url)]
        for url in named or [urljoin(self.urls.root, "wp-sitemap.xml")]:
            yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error)

    def on_robots_error(self, failure: Failure) -> Iterator[scrapy.Request]:
        """No robots.txt: WordPress's own sitemap, where it always is."""
        yield scrapy.Request(
            urljoin(self.urls.root, "wp-sitemap.xml"), callback=self.parse_sitemap, errback=self.on_error
        )

    def parse_sitemap(self, response: Response) -> Iterator[scrapy.Request]:
        body = response.body
        try:
            if body.startswith(_GZIP_MAGIC):
                body = gunzip(body, max_size=self.settings.getint("DOWNLOAD_MAXSIZE"))
            sitemap = Sitemap(body)
            entries = list(sitemap)
        except Exception as exc:  # lxml or gzip: what the sitemap held cannot be told
            self._count(keys.SITEMAPS_MALFORMED)
            logger.warning("Malformed sitemap %s: %s", response.url, str(exc)[:200])
            return
        self._count(keys.SITEMAPS_READ)
        for entry in entries:
            url = self.urls.canonical(entry.get("loc", "").strip())
            if not self.urls.is_on_site(url):
                continue
            if sitemap.type == "sitemapindex":
                if not any(mark in url.rsplit("/", 1)[-1] for mark in _NO_POSTS_SITEMAP):
                    yield scrapy.Request(url, callback=self.parse_sitemap, errback=self.on_error)
            elif self.section_slug:
                continue  # a section run keeps to its category
            elif self.urls.is_article(url):
                yield self._article_request(url, None, changed_at=entry.get("lastmod"))
            elif self.urls.may_be_unknown_article(url):  # a post at a URL of no known shape (/?p=123, /news/123)
                yield from self._probe_request(url, None)

    def _posts_api_request(self, page: int) -> scrapy.Request:
        query = f"per_page=100&page={page}&orderby=modified&order=desc&_fields=link,modified,modified_gmt"
        return scrapy.Request(
            urljoin(self.urls.root, f"wp-json/wp/v2/posts?{query}"),
            callback=self.parse_posts_api,
            errback=self.on_api_error,
            cb_kwargs={"page": page},
        )

    def parse_posts_api(self, response: Response, page: int) -> Iterator[scrapy.Request]:
        """A page of the REST API's posts, the most recently modified first: the next page is asked for only while
        this one holds posts the archive lacks or has older copies of."""
        try:
            posts = json.loads(response.text) if isinstance(response, TextResponse) else None
        except ValueError:
            posts = None
        if not isinstance(posts, list):
            self._count(keys.API_UNAVAILABLE)
            logger.info("The REST API at %s answers no list of posts: not used", response.url)
            return
        self._count(keys.API_PAGES)
        state = self.crawler.get_downloader_middleware(CrawlState)
        wanted = 0
        for post in posts:
            link = post.get("link") if isinstance(post, dict) else None
            url = self.urls.canonical(link) if isinstance(link, str) else ""
            if not self.urls.is_on_site(url):
                continue  # the API says it is a post, whatever its URL looks like; but only this site's
            gmt = post.get("modified_gmt")
            changed = f"{gmt}+00:00" if isinstance(gmt, str) and gmt else post.get("modified")
            wanted += state is None or state.wanted(url, changed)
            yield self._article_request(url, None, changed_at=changed if isinstance(changed, str) else None)
        pages = int(response.headers.get("X-WP-TotalPages", b"1") or 1)
        if wanted and page < min(pages, self.max_older_pages + 1):
            yield self._posts_api_request(page + 1)

    def on_api_error(self, failure: Failure) -> None:
        """The REST API is often switched off (401, 403, 404): the sitemaps and feeds are enough."""
        self._count(keys.API_UNAVAILABLE)
        logger.info("The REST API does not answer (%s): not used", failure.getErrorMessage()[:200])

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
            elif self.urls.may_be_unknown_article(entry.url):
                yield from self._probe_request(entry.url, None)

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
        aliases = tuple(
            SiteUrls(old).canonical(old) for old in response.meta.get("redirect_urls", ()) if self.urls.is_on_site(old)
        )
        published = self.feed_dates.get(self.urls.canonical(response.url))
        hints = CrawlHints(section=section, published=published, aliases=aliases)
        extraction = extract_article(response.body, response.url, _content_type(response), self.parser_options, hints)
        item, page = extraction.result, extraction.page
        probe = response.meta.get(PROBE_META)
        if isinstance(item, RejectedPage) or page is None:
            if item.kind == PARSE_ERROR:
                self._count(keys.PARSE_ERRORS)
            if probe:
                self._count(keys.UNKNOWN_NOT_ARTICLE)
                item = RejectedPage(response.url, NOT_AN_ARTICLE, f"an unknown URL scheme, no article: {item.reason}")
            yield item
            return
        if probe:
            self._count(keys.UNKNOWN_KEPT)
            logger.info("%s, a URL of no known article scheme, led to an article: %s", probe, item.url)
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
        if not self.section_slug:
            for link in page.unknown_related:
                yield from self._probe_request(link.url, None)
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
            elif not link.known:
                yield from self._probe_request(link.url, section)

    def _article_request(
        self, url: str, section: str | None, changed_at: str | None = None, probe: str | None = None
    ) -> scrapy.Request:
        if not probe:  # a link of unknown shape is no sign that the site still links its articles
            self._count(keys.ARTICLE_LINKS)
        meta: dict[str, Any] = {ARTICLE_META: True}
        if changed_at:
            meta[CHANGED_META] = changed_at
        if probe:
            meta[PROBE_META] = probe
        return scrapy.Request(
            url,
            callback=self.parse_article,
            errback=self.on_article_error,
            cb_kwargs={"section": section},
            meta=meta,
            dont_filter=True,  # CrawlState lets each article through once a run, and sees redirect loops
        )

    def _probe_request(self, url: str, section: str | None) -> Iterator[scrapy.Request]:
        """An on-site link in an article's place whose URL follows no known rule: followed once (counted), up to
        SPACEWAR_MAX_UNKNOWN_LINKS a run, so that a new URL scheme shows in the stats before it costs articles."""
        if self._unknown_links >= self.max_unknown_links:
            self._count(keys.UNKNOWN_LIMIT)
            return
        state = self.crawler.get_downloader_middleware(CrawlState)
        if state is not None and not state.wanted(url, None):
            return
        self._unknown_links += 1
        self._count(keys.UNKNOWN_LINKS)
        yield self._article_request(url, section, probe=url)

    def closed(self, reason: str) -> None:
        """A full run that finds no article on a site whose archive has its articles has not worked, whatever
        Scrapy's close reason says: the site's pages or URLs have changed (a move to new software)."""
        state = self.crawler.get_downloader_middleware(CrawlState)
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        found = any(stats.get(key) for key in (keys.ARTICLE_LINKS, keys.LISTINGS_UNCHANGED, keys.UNKNOWN_KEPT))
        if reason == "finished" and not self.section_slug and not found and state and state.documents:
            self._count(keys.NO_ARTICLES)
            logger.error(
                "Found no article on %s, whose archive holds %d of its articles: its pages or URLs have changed "
                "(see the README on other sites and generations)",
                self.urls.root,
                len(state.documents),
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
