"""The storage pipeline: batches articles into the MongoDB archive without stalling the crawl."""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import CloseSpider, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task, threads
from twisted.internet.defer import Deferred, DeferredList, DeferredLock

from spacewar_crawler.archive import (
    ArchiveConfig,
    ArchiveUnavailable,
    ArchiveWriteError,
    BatchResult,
    MongoArchive,
    connect_archive,
    mask_uri,
    utc_now,
)
from spacewar_crawler.embedded_mongo import EmbeddedMongo
from spacewar_crawler.incremental import articles_to_retry
from spacewar_crawler.items import ArticleItem
from spacewar_crawler.quality import DRIFT_STATS, QUALITY_STATS, UNKNOWN_LAYOUT_STATS, ArticleQuality, RunQuality
from spacewar_crawler.signals import archive_opened, listing_fetched
from spacewar_crawler.site_urls import DEFAULT_BASE_URL, SiteUrls

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.settings import BaseSettings
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)


def archive_config(settings: BaseSettings) -> ArchiveConfig:
    return ArchiveConfig(
        uri=settings.get("MONGO_URI") or None,
        database=settings.get("MONGO_DATABASE"),
        collection=settings.get("MONGO_COLLECTION"),
        embedded_dir=Path(settings.get("MONGO_EMBEDDED_DIR")),
        embedded_port=settings.getint("MONGO_EMBEDDED_PORT"),
        connect_timeout=settings.getfloat("MONGO_CONNECT_TIMEOUT"),
    )


class SpillFile:
    """JSON lines of items that could not be stored, for `python -m spacewar_crawler replay`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self._lock = threading.Lock()

    def append(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            if self.count == 0:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                logger.error("Storage is failing: spilling items to %s (replay it later)", self.path)
            with self.path.open("a", encoding="utf-8") as f:
                for item in items:
                    f.write(json.dumps(item, ensure_ascii=False) + "\n")
            self.count += len(items)


class MongoArchivePipeline:
    """Stores articles in MongoDB in batches, off the reactor thread, retrying with backoff.

    Batches are flushed at MONGO_BATCH_SIZE items, every MONGO_FLUSH_INTERVAL seconds and
    at spider close. Items that still cannot be written after MONGO_RETRY_SECONDS go to a
    spill file and the run ends with a non-zero exit status. Dropped items are recorded in
    `rejects`, and every run in `crawl_runs`.
    """

    def __init__(self, crawler: Crawler) -> None:
        settings = crawler.settings
        self.crawler = crawler
        self.config = archive_config(settings)
        self.batch_size = settings.getint("MONGO_BATCH_SIZE")
        self.flush_interval = settings.getfloat("MONGO_FLUSH_INTERVAL")
        self.retry_seconds = settings.getfloat("MONGO_RETRY_SECONDS")
        self.retry_failed_runs = settings.getint("SPACEWAR_RETRY_FAILED_RUNS")
        self.run_id = f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.spill = SpillFile(Path(settings.get("MONGO_SPILL_DIR")) / f"spill-{self.run_id}.jsonl")
        self.archive: MongoArchive | None = None
        self.embedded: EmbeddedMongo | None = None
        self.buffer: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
        self.listings: dict[str, dict[str, str | None]] = {}
        self.counts: Counter[str] = Counter()
        self.read: dict[str, ArticleQuality] = {}
        self.written: set[str] = set()
        self.drift_runs = settings.getint("QUALITY_DRIFT_RUNS")
        self.drift_min_articles = settings.getint("QUALITY_DRIFT_MIN_ARTICLES")
        self.drift_points = settings.getfloat("QUALITY_DRIFT_POINTS")
        self._lock = DeferredLock()
        self._pending: set[Deferred[None]] = set()
        self._loop: task.LoopingCall | None = None
        self._run: dict[str, Any] = {}

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoArchivePipeline:
        if not crawler.settings.getbool("MONGO_ENABLED"):
            raise NotConfigured("MONGO_ENABLED is off")
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.listing_fetched, signal=listing_fetched)
        return pipeline

    @property
    def stats(self) -> Any:
        return self.crawler.stats

    async def open_spider(self) -> None:
        try:
            self.archive, self.embedded = await maybe_deferred_to_future(
                threads.deferToThread(connect_archive, self.config)
            )
        except ArchiveUnavailable as exc:
            logger.error("%s", exc)
            # Crawler.crawl turns CloseSpider from open_spider into a clean close: no page is fetched.
            raise CloseSpider("mongo_unavailable") from None
        spider = self.crawler.spider
        self._run = {
            "_id": self.run_id,
            "spider": spider.name if spider else None,
            "args": dict(getattr(spider, "arguments", {})),
            "started_at": utc_now(),
            "finished_at": None,
            "finish_reason": None,
        }
        await maybe_deferred_to_future(threads.deferToThread(self.archive.start_run, self._run))
        site = SiteUrls(self._run["args"].get("base_url") or DEFAULT_BASE_URL)
        archived, validators, failures = await maybe_deferred_to_future(
            threads.deferToThread(
                lambda: (
                    self.archive.archived_urls(site.host),
                    self.archive.listing_validators(),
                    self.archive.fetch_failures(),
                )
            )
        )
        retry = articles_to_retry(failures, archived, site.is_article, self.retry_failed_runs)
        self.crawler.signals.send_catch_log(
            archive_opened, archived_urls=archived, listing_validators=validators, retry_urls=retry
        )
        self._loop = task.LoopingCall(self._flush)
        self._loop.start(self.flush_interval, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            stored = ItemAdapter(item).asdict()
            self.buffer.append(stored)
            self.read[item.url] = ArticleQuality.of(stored)
            if len(self.buffer) >= self.batch_size:
                self._flush()
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        url = ItemAdapter(item).get("url") if ItemAdapter.is_item(item) else None
        self.rejects.append({"url": url, "reason": str(exception), "time": utc_now(), "run_id": self.run_id})

    def listing_fetched(self, url: str, etag: str | None, last_modified: str | None) -> None:
        self.listings[url] = {"etag": etag, "last_modified": last_modified}

    def _flush(self) -> Deferred[None] | None:
        if not self.buffer and not self.rejects:
            return None
        batch, self.buffer = self.buffer, []
        rejects, self.rejects = self.rejects, []
        d = self._lock.run(threads.deferToThread, self._write, batch, rejects)
        d.addCallback(self._record)
        d.addErrback(self._write_crashed, batch)
        self._pending.add(d)
        d.addBoth(self._done, d)
        return d

    def _done(self, result: object, d: Deferred[None]) -> object:
        self._pending.discard(d)
        return result

    def _write(self, batch: list[dict[str, Any]], rejects: list[dict[str, Any]]) -> BatchResult:
        """Runs in a worker thread: write with retries and backoff, spill what cannot be written."""
        assert self.archive is not None
        deadline = time.monotonic() + self.retry_seconds
        delay = 0.5
        while True:
            try:
                result = self.archive.upsert_batch(batch)
                self.archive.add_rejects(rejects)
                break
            except ArchiveWriteError as exc:
                if time.monotonic() + delay > deadline:
                    logger.error("Giving up on a batch of %d items after retries: %s", len(batch), exc)
                    self.spill.append(batch)
                    return BatchResult(failed=list(batch))
                logger.warning("MongoDB write failed (%s); retrying in %.1f s", exc, delay)
                self.counts["retries"] += 1
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
        if result.failed:
            self.spill.append(result.failed)
        return result

    def _record(self, result: BatchResult) -> None:
        for kind in ("new", "changed", "refreshed", "unchanged"):
            self.stats.inc_value(f"spacewar/articles/{kind}", getattr(result, kind))
        self.written.update(result.written)
        if result.failed:
            self.stats.inc_value("spacewar/storage/spilled", len(result.failed))

    def _write_crashed(self, failure: Failure, batch: list[dict[str, Any]]) -> None:
        logger.error("Storage crashed on a batch of %d items: %s", len(batch), failure.getErrorMessage())
        self.spill.append(batch)
        self.stats.inc_value("spacewar/storage/spilled", len(batch))

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._flush()
        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))
        if self.archive is not None:
            await maybe_deferred_to_future(threads.deferToThread(self._check_quality))

    def _check_quality(self) -> None:
        """The run's extraction figures (new, changed and refreshed articles) and the drift alarm, into the stats."""
        assert self.archive is not None
        quality = RunQuality.of(self.read[url] for url in self.written if url in self.read)
        self.stats.set_value(QUALITY_STATS, quality.figures())
        self.stats.set_value(UNKNOWN_LAYOUT_STATS, quality.unknown_layout)
        try:
            history = [run["counts"]["quality"] for run in self.archive.recent_runs(50) if _has_quality(run)]
        except Exception as exc:  # an alarm that cannot look back must not fail the run
            logger.warning("Could not read earlier runs to check extraction drift: %s", exc)
            return
        alarms = quality.drift(
            history, runs=self.drift_runs, min_articles=self.drift_min_articles, points=self.drift_points
        )
        for alarm in alarms:
            logger.warning("%s", alarm.message())
        self.stats.set_value(DRIFT_STATS, [alarm.as_document() for alarm in alarms])

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None:
            return
        self._flush()
        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))
        self.stats.set_value("spacewar/storage/retries", self.counts["retries"])
        run = {**self._run, "finished_at": utc_now(), "finish_reason": reason, "counts": self._run_counts()}
        # Listing validators only move after a complete run: what a 304 then hides is stored, or is a
        # fetch failure in `rejects` that the next full runs ask for again.
        complete = reason == "finished" and not self.spill.count
        try:
            await maybe_deferred_to_future(threads.deferToThread(self.archive.finish_run, run))
            if complete:
                await maybe_deferred_to_future(
                    threads.deferToThread(self.archive.save_listing_validators, self.listings)
                )
        except Exception as exc:  # the run's own record must not hide the run's result
            logger.error("Could not record the crawl run: %s", exc)
        self.archive.close()
        if self.embedded is not None:
            self.embedded.stop()
            logger.info("Stopped the embedded MongoDB stand-in at %s", mask_uri(self.embedded.uri))
        if self.spill.count:
            logger.error(
                "%d items were not stored; run: python -m spacewar_crawler replay %s", self.spill.count, self.spill.path
            )

    def _run_counts(self) -> dict[str, Any]:
        stats = self.stats.get_stats()
        prefix = "spacewar/dropped/"
        return {
            "pages": stats.get("response_received_count", 0),
            "articles_new": stats.get("spacewar/articles/new", 0),
            "articles_changed": stats.get("spacewar/articles/changed", 0),
            "articles_refreshed": stats.get("spacewar/articles/refreshed", 0),
            "articles_unchanged": stats.get("spacewar/articles/unchanged", 0),
            "quality": stats.get(QUALITY_STATS, {}),
            "layout_unknown": stats.get(UNKNOWN_LAYOUT_STATS, 0),
            "drift": stats.get(DRIFT_STATS, []),
            "dropped": {k.removeprefix(prefix): v for k, v in stats.items() if k.startswith(prefix)},
            "errors": sum(
                v for k, v in stats.items() if k.startswith(("spacewar/fetch_failed/", "spider_exceptions/"))
            ),
            "spilled": self.spill.count,
        }


def _has_quality(run: dict[str, Any]) -> bool:
    return isinstance(run.get("counts"), dict) and isinstance(run["counts"].get("quality"), dict)
