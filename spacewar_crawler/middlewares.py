"""Downloader middlewares: the crawl's state from the archive (`CrawlState`), and the raw archive (`WarcMiddleware`).

`CrawlState` is the one owner of what the archive tells a crawl, in the manner of
scrapy-deltafetch and Scrapy's conditional-validator cache policy: archived articles are
not fetched again, listing pages are asked for with the validators of the last complete
run, articles that a passing fault kept out are asked for again, and each article reaches
the downloader once per run. No other component knows any of it.
"""

from __future__ import annotations

import logging
import os
import secrets
import zlib
from collections import Counter
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy import Request as ScrapyRequest
from scrapy import signals
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet import threads
from twisted.internet.defer import Deferred

from spacewar_crawler import stats as keys
from spacewar_crawler.archive.documents import parse_time
from spacewar_crawler.archive.embedded import EmbeddedMongo
from spacewar_crawler.archive.errors import ArchiveUnavailable
from spacewar_crawler.archive.mongo import ArchiveConfig, MongoArchive, connect_archive
from spacewar_crawler.archive.warc import WarcArchive
from spacewar_crawler.pipelines import MongoArchivePipeline
from spacewar_crawler.site.urls import CLASSIC, WORDPRESS, SiteUrls, is_classic_article

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response
    from scrapy.robotstxt import RobotParser

logger = logging.getLogger(__name__)

ARTICLE_META = "spacewar_article"
LISTING_META = "spacewar_listing"
LOCATION_META = "warc_location"
CHANGED_META = "spacewar_changed_at"
"""On an article request: when the site says the article last changed (a sitemap's lastmod, the REST API's
`modified`), ISO 8601. An archived article is fetched again only if that is later than what the archive has."""


class SkippedArticle(IgnoreRequest):
    """An article request not sent on purpose: archived already, or a duplicate in this run."""


class RedirectLoop(IgnoreRequest):
    """An article request that redirects back to a URL it came from."""


class OffsiteRequest(IgnoreRequest):
    """A request (most often a redirect) for a host, port or scheme that is not the crawled site's: never sent.

    Scrapy's own offsite filter lets `dont_filter` requests through, and a redirect inherits that flag from the
    article request it follows: without this, a hostile site redirects the crawler anywhere.
    """


class RobotsTxtObeyed(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for robots.txt given the parser.

    In Scrapy 2.19 the requests that arrive while robots.txt is being fetched all await one shared Deferred;
    the first waiter's conversion to a future consumes its result, so the others get None and are let through
    ("allowed"), whatever robots.txt says. Here each waiter has its own Deferred, chained to the shared one.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if isinstance(pending, Deferred):
            mine: Deferred[RobotParser | None] = Deferred()
            pending.addBoth(_pass_on, mine)
            return await maybe_deferred_to_future(mine)
        return await super().robot_parser(request)


def _own_canonical(url: str) -> str:
    """A URL's canonical form on its own host (a site that moved to its bare host keeps it), as items have it."""
    return SiteUrls(url).canonical(url)


def _pass_on(result: Any, waiter: Deferred[Any]) -> Any:
    waiter.callback(result)
    return result


def articles_to_retry(
    failures: Iterable[Mapping[str, Any]], archived: frozenset[str], is_article: Callable[[str], bool], max_runs: int
) -> list[str]:
    """Articles worth another try: not archived, last failure one that may pass, fewer than `max_runs` failures.

    `failures` are the archive's fetch failures (url, lasting), oldest first, one per run that failed.
    """
    failed_runs: Counter[str] = Counter()
    last_lasting: dict[str, bool] = {}
    for failure in failures:
        url = failure["url"]
        if url and url not in archived and is_article(url):
            failed_runs[url] += 1
            last_lasting[url] = bool(failure.get("lasting"))
    return [url for url, runs in failed_runs.items() if runs < max_runs and not last_lasting[url]]


class CrawlState:
    """Downloader middleware: archived articles, listing validators, articles to ask for again, one fetch per run.

    Loaded from the archive when the spider opens (its own connection), saved after a
    complete run. `SPACEWAR_REFRESH` (the spider's `refresh=1`) fetches archived articles
    again. With storage off (MONGO_ENABLED=0) only the once-per-run rule remains, and the
    log says so.
    """

    def __init__(self, crawler: Crawler, config: ArchiveConfig | None) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.config = config
        self.refresh = settings.getbool("SPACEWAR_REFRESH")
        self.retry_failed_runs = settings.getint("SPACEWAR_RETRY_FAILED_RUNS")
        # Either generation's article URLs: the retries and links it hands the spider predate the run's look at the
        # home page (a WordPress site's rules accept the classic URLs too: they redirect).
        self.site = SiteUrls(settings.get("SPACEWAR_BASE_URL"), WORDPRESS)
        self.archive: MongoArchive | None = None
        self.archived: frozenset[str] = frozenset()
        self.changed_at: dict[str, datetime] = {}
        self.documents: frozenset[str] = frozenset()
        self.generation = CLASSIC
        """The site's generation, as the spider found it on the home page (`note_generation`)."""
        self.detected: str | None = None
        self.root = self.site.root
        self.last_seen: dict[str, Any] | None = None
        """The archive's record of the site: the generation it showed when last crawled."""
        self.aliases: dict[str, str] = {}
        """Old URLs seen redirecting to an article's URL in this run (old -> new), saved when the run closes."""
        self.validators: dict[str, dict[str, str | None]] = {}
        self.seen_validators: dict[str, dict[str, str | None]] = {}
        self.retry_urls: list[str] = []
        self.not_articles: frozenset[str] = frozenset()
        """URLs an earlier run fetched and found to be no article: not asked for again (unless refresh)."""
        self.linked_urls: list[str] = []
        self.embedded: EmbeddedMongo | None = None
        self.own_connection = False
        self.skipped: set[str] = set()
        self.modified: set[str] = set()
        self.claimed: set[str] = set()
        self.scheduled: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlState:
        enabled = crawler.settings.getbool("MONGO_ENABLED")
        state = cls(crawler, ArchiveConfig.from_settings(crawler.settings) if enabled else None)
        crawler.signals.connect(state.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(state.spider_closed, signal=signals.spider_closed)
        return state

    async def spider_opened(self, spider: Spider) -> None:
        if self.config is None:
            logger.info(
                "Storage is off (MONGO_ENABLED=0): archived articles are fetched again, listings are asked for "
                "without validators and earlier failures are not retried; each article is still fetched once a run."
            )
            return
        storage = self.crawler.get_item_pipeline(MongoArchivePipeline)
        if storage is not None and storage.archive is None:
            return  # storage could not open the archive and has stopped the run, saying why
        try:
            if storage is not None:
                self.archive = storage.archive  # the run's one connection (and embedded stand-in): storage's
            else:
                self.own_connection = True
                self.archive, self.embedded = await maybe_deferred_to_future(
                    threads.deferToThread(connect_archive, self.config)
                )
            loaded = await maybe_deferred_to_future(threads.deferToThread(self._load, self.archive))
        except ArchiveUnavailable as exc:
            logger.error("Could not load the crawl's state: %s", exc)
            return
        archived_site, self.validators, failures, rejected, self.not_articles, self.last_seen = loaded
        self.archived, self.changed_at, linked = archived_site.urls, archived_site.changed_at, archived_site.linked
        self.documents = archived_site.documents
        if not self.crawler.settings.get("SPACEWAR_SECTION"):
            # A section run keeps to its listings: retries are the full runs' work.
            self.retry_urls = articles_to_retry(failures, self.archived, self.site.is_article, self.retry_failed_runs)
            # Linked from an archived article's RELATED CONTENT, but neither stored nor rejected: it was queued or in
            # flight when a run was killed, and no listing may lead to it again.
            self.linked_urls = sorted(u for u in linked - self.archived - rejected if self.site.is_article(u))

    def _load(self, archive: MongoArchive) -> tuple[Any, ...]:
        return (
            archive.articles.archived_site(self.site.host),
            archive.listings.validators(),
            archive.rejects.fetch_failures(),
            archive.rejects.rejected_urls(),
            archive.rejects.not_article_urls(),
            archive.sites.last_seen(self.site.host),
        )

    def note_generation(self, generation: str, root: str) -> None:
        """The generation the site's home page showed in this run; a change since the last run is said."""
        self.generation, self.detected, self.root = generation, generation, root
        last = self.last_seen or {}
        if last.get("generation") and last["generation"] != generation:
            logger.warning(
                "%s served the %s generation when last crawled (%s) and serves %s now: its URLs have changed; "
                "archived articles found at their new URLs are kept as one (see the README on moved URLs)",
                root, last["generation"], f"{last.get('seen_at'):%Y-%m-%d}" if last.get("seen_at") else "?", generation,
            )  # fmt: skip

    def spider_closed(self, spider: Spider, reason: str) -> None:
        """Saves the listing validators after a complete run: what a 304 then hides is stored, or is a fetch
        failure that the next full runs ask for again. Synchronous, so that it is done before storage closes."""
        if self.archive is None:
            return
        stats = self.crawler.stats.get_stats() if self.crawler.stats else {}
        complete = reason == "finished" and not any(stats.get(key) for key in keys.FAILED)
        try:
            if self.aliases:  # facts about the site whatever the run's end: kept even from an incomplete run
                self.archive.articles.add_aliases(self.aliases)
        except Exception as exc:  # the next run that meets the redirect records it again
            logger.error("Could not save %d old URLs of moved articles: %s", len(self.aliases), exc)
        try:
            if self.detected:
                self.archive.sites.seen(self.site.host, self.root, self.detected)
        except Exception as exc:  # the next run tells the generation again
            logger.error("Could not record the site's generation: %s", exc)
        try:
            if complete:
                self.archive.listings.save(self.seen_validators)
        except Exception as exc:  # the validators only save work; losing them costs one full fetch
            logger.error("Could not save the listing validators: %s", exc)
        finally:
            if self.own_connection:  # storage is not in the run: the connection is this component's to close
                self.archive.close()
                if self.embedded is not None:
                    self.embedded.stop()

    def admit(self, request: Request) -> bool:
        """Whether an article request the spider made is worth scheduling: not archived (unless refresh), not
        scheduled already in this run. Most links point at such articles, so this is decided before the request
        costs the scheduler anything; `process_request` decides again for requests restored from JOBDIR."""
        url = request.url
        if url in self.scheduled:
            self._count(keys.GATE_DUPLICATE)
            return False
        if url in self.not_articles and not self.refresh:
            if url not in self.skipped:
                self.skipped.add(url)
                self._count(keys.SKIPPED_NOT_ARTICLE)
            return False
        if self._archived(url, request.meta.get(CHANGED_META)):
            return False  # not marked: a later link may come with the news that it changed (a sitemap's lastmod)
        self.scheduled.add(url)
        return True

    def wanted(self, url: str, changed: str | None) -> bool:
        """Whether an article request for `url` would be scheduled (nothing counted, nothing marked)."""
        if url in self.scheduled or (url in self.not_articles and not self.refresh):
            return False
        if url not in self.archived or self.refresh or self._to_check_for_move(url):
            return True
        return self._changed_since_archived(url, changed)

    def process_request(self, request: Request) -> None:
        if not self.site.is_on_site(request.url):
            self._count(keys.OFFSITE)
            origin = (request.meta.get("redirect_urls") or [request.url])[0]
            raise OffsiteRequest(f"offsite: {origin} -> {request.url}")
        if request.meta.get(LISTING_META):
            self._add_validators(request)
            return
        if not request.meta.get(ARTICLE_META) or request.meta.get("retry_times"):
            return
        if request.url in request.meta.get("redirect_urls", ()):
            raise RedirectLoop(f"redirect loop: {' -> '.join([*request.meta['redirect_urls'], request.url])}")
        self._note_aliases(request)
        if self._archived(request.url, request.meta.get(CHANGED_META)):
            raise SkippedArticle(f"archived: {request.url}")
        if request.url in self.claimed:
            self._count(keys.GATE_DUPLICATE)
            raise SkippedArticle(f"duplicate: {request.url}")
        self.claimed.add(request.url)

    def _note_aliases(self, request: Request) -> None:
        """The on-site URLs that redirected to this article request's URL: its old URLs."""
        new = _own_canonical(request.url)
        for old in request.meta.get("redirect_urls", ()):
            old = _own_canonical(old)
            if old != new and self.site.is_on_site(old) and self.aliases.get(old) != new:
                self.aliases[old] = new
                self._count(keys.ALIASES)

    def _archived(self, url: str, changed: str | None = None) -> bool:
        """An archived article this run does not fetch again (unless refresh, or the site says it changed since
        the archive's copy), counted once."""
        if url not in self.archived or self.refresh:
            return False
        if self._to_check_for_move(url):
            if url not in self.skipped:
                self.skipped.add(url)
                self._count(keys.MOVE_CHECKS)
            return False
        if self._changed_since_archived(url, changed):
            if url not in self.modified:
                self.modified.add(url)
                self._count(keys.ARTICLES_MODIFIED)
            return False
        if url not in self.skipped:
            self.skipped.add(url)
            self._count(keys.ARTICLES_SKIPPED_ARCHIVED)
        return True

    def _to_check_for_move(self, url: str) -> bool:
        """An article archived under a classic URL of a site that now serves WordPress: asked for once more, so
        that its redirect to the new URL is seen and the two are kept as one."""
        return self.generation == WORDPRESS and url in self.documents and is_classic_article(url)

    def _changed_since_archived(self, url: str, changed: str | None) -> bool:
        known, said = self.changed_at.get(url), parse_time(changed)
        return said is not None and (known is None or said > known)

    def _add_validators(self, request: Request) -> None:
        validators = {} if self.refresh else self.validators.get(request.url, {})
        if validators.get("etag"):
            request.headers.setdefault("If-None-Match", validators["etag"])
        if validators.get("last_modified"):
            request.headers.setdefault("If-Modified-Since", validators["last_modified"])

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(LISTING_META) and response.status == 200:
            self.seen_validators[response.url] = {
                "etag": response.headers.get("ETag", b"").decode("latin-1") or None,
                "last_modified": response.headers.get("Last-Modified", b"").decode("latin-1") or None,
            }
        return response

    def _count(self, key: str) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(key)


class DecompressionGuard:
    """Downloader middleware: refuses a compressed body that would inflate past DOWNLOAD_MAXSIZE, before Scrapy's
    HttpCompressionMiddleware inflates it.

    Scrapy 2.19 checks the size after each 64 KB of input, and 64 KB of a gzip bomb is 64 MB of output: a 400 KB
    download took the crawl to 965 MB. Here the body is inflated a megabyte at a time and thrown away; only its
    size is kept.
    """

    def __init__(self, max_size: int) -> None:
        self.max_size = max_size

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DecompressionGuard:
        max_size = crawler.settings.getint("DOWNLOAD_MAXSIZE")
        if not max_size:
            raise NotConfigured("DOWNLOAD_MAXSIZE is 0")
        return cls(max_size)

    def process_response(self, request: Request, response: Response) -> Response:
        encoding = response.headers.get("Content-Encoding", b"").strip().lower()
        window = _WINDOWS.get(encoding)
        if window is not None and _inflated_size(response.body, window, self.max_size) > self.max_size:
            raise IgnoreRequest(
                f"{response.url}: the {encoding.decode()} body inflates past the download max size ({self.max_size} B)"
            )
        return response


_WINDOWS = {b"gzip": zlib.MAX_WBITS | 16, b"x-gzip": zlib.MAX_WBITS | 16, b"deflate": zlib.MAX_WBITS}


def _inflated_size(body: bytes, window: int, limit: int) -> int:
    """How large `body` inflates, counted a megabyte at a time, stopping past `limit`."""
    inflater = zlib.decompressobj(window)
    size, pending = 0, body
    try:
        while pending and size <= limit:
            size += len(inflater.decompress(pending, 1 << 20))
            pending = inflater.unconsumed_tail
    except zlib.error:
        return 0  # not what it says it is: Scrapy's own middleware decides
    return size


class ScheduleOnce:
    """Spider middleware: hands each article request the spider yields to `CrawlState.admit` before it is scheduled."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ScheduleOnce:
        return cls(crawler)

    def process_spider_output(self, response: Response, result: Iterable[Any]) -> Iterable[Any]:
        for output in result:
            if self._wanted(output):
                yield output

    async def process_spider_output_async(self, response: Response, result: AsyncIterable[Any]) -> AsyncIterator[Any]:
        async for output in result:  # the start requests come this way
            if self._wanted(output):
                yield output

    def _wanted(self, output: Any) -> bool:
        if not isinstance(output, ScrapyRequest) or not output.meta.get(ARTICLE_META):
            return True
        state = self.crawler.get_downloader_middleware(CrawlState)
        return state is None or state.admit(output)


class WarcMiddleware:
    """Downloader middleware: writes every article response (200) to the WARC archive."""

    def __init__(self, crawler: Crawler, archive: WarcArchive) -> None:
        self.crawler = crawler
        self.archive = archive
        self.failures = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        # One process's files only: two crawls started in the same second (scrapyd) never share one.
        prefix = f"spacewar-{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{os.getpid()}-{secrets.token_hex(3)}"
        archive = WarcArchive(
            Path(settings.get("WARC_DIR")).resolve(),
            prefix,
            settings.getint("WARC_MAX_BYTES"),
            settings.get("USER_AGENT"),
            settings.getint("WARC_COMPRESSION_LEVEL"),
        )
        middleware = cls(crawler, archive)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(ARTICLE_META) and response.status == 200:
            try:
                location = self.archive.write_exchange(
                    response.url,
                    _header_pairs(request.headers),
                    response.status,
                    "OK",
                    _header_pairs(response.headers),
                    response.body,
                    request.method,
                )
            except OSError as exc:
                # The article is still stored, flagged, and the run is not complete: its exit status says so and
                # the listing validators are not saved, so the next run sees the same listings again.
                if not self.failures:
                    logger.error("Cannot write the WARC archive (%s): articles are stored without originals", exc)
                self.failures += 1
                self.crawler.stats.inc_value(keys.WARC_FAILED)
                request.meta[LOCATION_META] = None
            else:
                request.meta[LOCATION_META] = {"file": location[0], "offset": location[1]}
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.archive.close()


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]
