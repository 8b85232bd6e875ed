"""Item pipelines: validate the finished article (the page object has cleaned it), then store it in MongoDB.

Storage batches articles off the reactor thread, retries with backoff, spills what it
cannot write, and records every run and every dropped page; it writes and knows nothing
of the crawl's navigation state (that is `middlewares.CrawlState`'s).
"""

from __future__ import annotations

import atexit
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
from scrapy.exceptions import CloseSpider, DropItem, NotConfigured
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet import task, threads
from twisted.internet.defer import Deferred, DeferredList, DeferredLock

from spacewar_crawler import stats as keys
from spacewar_crawler.archive.articles import BatchResult
from spacewar_crawler.archive.documents import MAX_DOCUMENT_BYTES, document_size, utc_now
from spacewar_crawler.archive.embedded import EmbeddedMongo
from spacewar_crawler.archive.errors import ArchiveUnavailable, ArchiveWriteError
from spacewar_crawler.archive.mongo import ArchiveConfig, MongoArchive, connect_archive, mask_uri
from spacewar_crawler.items import ArticleItem, RejectedPage
from spacewar_crawler.reading.article import TOO_LARGE_TO_STORE
from spacewar_crawler.reading.quality import ArticleQuality, RunQuality
from spacewar_crawler.stats import RunCounts

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector
    from twisted.python.failure import Failure

logger = logging.getLogger(__name__)

REQUIRED_FIELDS = ("url", "title", "body")


class ValidationPipeline:
    """Drops items that are not whole articles, counting each reason in the stats."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ValidationPipeline:
        assert crawler.stats is not None
        return cls(crawler.stats)

    def process_item(self, item: object) -> object:
        if isinstance(item, RejectedPage):
            self._drop(item.kind, item.reason)
        adapter = ItemAdapter(item)
        for name in REQUIRED_FIELDS:
            if not adapter.get(name):
                self._drop(f"missing_{name}", f"missing_{name}")
        return item

    def _drop(self, kind: str, reason: str) -> None:
        """Counted here; Scrapy logs the drop (as the URL and the reason: extensions.BoundedLogFormatter)."""
        self.stats.inc_value(keys.DROPPED + kind)
        raise ItemRejected(kind, reason)


class ItemRejected(DropItem):
    """An item dropped for a reason of a kind (`reading.article` names them), recorded in `rejects` as such."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


class SpillFile:
    """JSON lines of items that could not be stored, for `spacewar replay`; what it cannot write either is counted
    as lost, never dropped unseen."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.count = 0
        self.lost = 0
        self._lock = threading.Lock()

    def append(self, items: list[dict[str, Any]]) -> None:
        with self._lock:
            written = 0
            try:
                if self.count == 0:
                    self.path.parent.mkdir(parents=True, exist_ok=True)
                    logger.error("Storage is failing: spilling items to %s (replay it later)", self.path)
                with self.path.open("a", encoding="utf-8") as f:
                    for item in items:
                        f.write(json.dumps(item, ensure_ascii=False) + "\n")
                        f.flush()
                        written += 1
            except OSError as exc:
                if not self.lost:
                    logger.error("Cannot write the spill file %s (%s): items are being LOST", self.path, exc)
                self.lost += len(items) - written
            self.count += written


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
        self.config = ArchiveConfig.from_settings(settings)
        self.batch_size = settings.getint("MONGO_BATCH_SIZE")
        self.flush_interval = settings.getfloat("MONGO_FLUSH_INTERVAL")
        self.retry_seconds = settings.getfloat("MONGO_RETRY_SECONDS")
        self.run_id = f"{utc_now():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"
        self.spill = SpillFile(Path(settings.get("MONGO_SPILL_DIR")) / f"spill-{self.run_id}.jsonl")
        self.archive: MongoArchive | None = None
        self.embedded: EmbeddedMongo | None = None
        self.buffer: list[dict[str, Any]] = []
        self.rejects: list[dict[str, Any]] = []
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
        self._unwritten: dict[int, list[dict[str, Any]]] = {}
        self._outage_deadline: float | None = None
        self._stopping = threading.Event()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> MongoArchivePipeline:
        if not crawler.settings.getbool("MONGO_ENABLED"):
            raise NotConfigured("MONGO_ENABLED is off")
        pipeline = cls(crawler)
        crawler.signals.connect(pipeline.item_dropped, signal=signals.item_dropped)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
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
        spider, settings = self.crawler.spider, self.crawler.settings
        self._run = {
            "_id": self.run_id,
            "spider": spider.name if spider else None,
            "args": self.crawler.settings.getdict("SPACEWAR_RUN_ARGS"),
            # Absolute, so that `original` and `reextract` find the files from any working directory.
            "warc_dir": str(Path(settings.get("WARC_DIR")).resolve()) if settings.getbool("WARC_ENABLED") else None,
            "started_at": utc_now(),
            "finished_at": None,
            "finish_reason": None,
        }
        await maybe_deferred_to_future(threads.deferToThread(self.archive.runs.start, self._run))
        atexit.register(self._spill_on_exit)
        # The reactor stops at the end of a run, and at a forced stop (a second Ctrl-C): a batch retrying in a worker
        # thread then gives up and is spilled, so that the thread pool, which the reactor joins, lets go.
        from twisted.internet import reactor  # the one Scrapy installed: importing it earlier would install another

        reactor.addSystemEventTrigger("before", "shutdown", self._stopping.set)
        self._loop = task.LoopingCall(self._flush)
        self._loop.start(self.flush_interval, now=False)

    def process_item(self, item: Any) -> Any:
        if isinstance(item, ArticleItem):
            stored = ItemAdapter(item).asdict()
            size = document_size(stored)
            if size > MAX_DOCUMENT_BYTES:  # MongoDB refuses it; the original stays in the WARC file
                self.stats.inc_value(keys.DROPPED + TOO_LARGE_TO_STORE)
                raise ItemRejected(TOO_LARGE_TO_STORE, f"{TOO_LARGE_TO_STORE}: {size} bytes as a MongoDB document")
            self.buffer.append(stored)
            self.read[item.url] = ArticleQuality.of(stored)
            if len(self.buffer) >= self.batch_size:
                self._flush()
        return item

    def item_dropped(self, item: Any, response: Any, exception: BaseException, spider: Spider) -> None:
        record: dict[str, Any] = {"time": utc_now(), "run_id": self.run_id}
        if isinstance(item, RejectedPage):
            record |= {"url": item.url, "kind": item.kind, "reason": item.reason, "status": item.status}
            record["lasting"] = item.lasting
        else:
            url = ItemAdapter(item).get("url") if ItemAdapter.is_item(item) else None
            record |= {"url": url, "kind": getattr(exception, "kind", "dropped"), "reason": str(exception)[:300]}
        self.rejects.append(record)

    def _flush(self) -> Deferred[None] | None:
        if not self.buffer and not self.rejects:
            return None
        batch, self.buffer = self.buffer, []
        rejects, self.rejects = self.rejects, []
        self._unwritten[id(batch)] = batch
        d = self._lock.run(threads.deferToThread, self._write, batch, rejects)
        d.addCallback(self._record)
        d.addErrback(self._write_crashed, batch)
        self._pending.add(d)
        d.addBoth(self._done, d, batch)
        return d

    def _done(self, result: object, d: Deferred[None], batch: list[dict[str, Any]]) -> object:
        self._pending.discard(d)
        self._unwritten.pop(id(batch), None)
        return result

    def _write(self, batch: list[dict[str, Any]], rejects: list[dict[str, Any]]) -> BatchResult:
        """Runs in a worker thread: write with retries and backoff, spill what cannot be written.

        An outage has one deadline for the whole run (MONGO_RETRY_SECONDS from its first failed write): the
        batches after it are spilled at once, so that closing never waits batch after batch.
        """
        assert self.archive is not None
        delay = 0.5
        while True:
            if self._outage_deadline is not None and time.monotonic() >= self._outage_deadline:
                self.spill.append(batch)
                return BatchResult(failed=list(batch))
            try:
                result = self.archive.articles.upsert_batch(batch)
                self.archive.rejects.add(rejects)
                self._outage_deadline = None
                break
            except ArchiveWriteError as exc:
                if self._outage_deadline is None:
                    self._outage_deadline = time.monotonic() + self.retry_seconds
                if time.monotonic() + delay > self._outage_deadline or self._stopping.is_set():
                    logger.error("Giving up on a batch of %d items: storage has failed too long: %s", len(batch), exc)
                    self._outage_deadline = time.monotonic()  # the batches after this one are spilled at once
                    self.spill.append(batch)
                    return BatchResult(failed=list(batch))
                logger.warning("MongoDB write failed (%s); retrying in %.1f s", exc, delay)
                self.counts["retries"] += 1
                self._stopping.wait(delay)  # a forced stop ends the wait: the process must not hang on an outage
                delay = min(delay * 2, 10.0)
        if result.failed:
            self.spill.append(result.failed)
        return result

    def _record(self, result: BatchResult) -> None:
        for kind in keys.ARTICLE_KINDS:
            self.stats.inc_value(keys.articles(kind), getattr(result, kind))
        self.written.update(result.written)

    def _write_crashed(self, failure: Failure, batch: list[dict[str, Any]]) -> None:
        logger.error("Storage crashed on a batch of %d items: %s", len(batch), failure.getErrorMessage()[:300])
        self.spill.append(batch)

    def _spill_on_exit(self) -> None:
        """At interpreter exit after a forced stop (a second Ctrl-C), whatever is still unwritten goes to the spill
        file (a batch that was being written may also be stored: replay is idempotent)."""
        unwritten = [item for batch in list(self._unwritten.values()) for item in batch] + self.buffer
        if unwritten:
            self.spill.append(unwritten)
            logger.error("Stopped before storing %d items: spilled to %s", len(unwritten), self.spill.path)

    async def close_spider(self) -> None:
        if self._loop is not None and self._loop.running:
            self._loop.stop()
        self._flush()
        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))
        self.stats.set_value(keys.STORAGE_SPILLED, self.spill.count)
        self.stats.set_value(keys.STORAGE_LOST, self.spill.lost)
        if self.archive is not None:
            await maybe_deferred_to_future(threads.deferToThread(self._check_quality))

    def _check_quality(self) -> None:
        """The run's extraction figures (new, changed and refreshed articles) and the drift alarm, into the stats."""
        assert self.archive is not None
        quality = RunQuality.of(self.read[url] for url in self.written if url in self.read)
        self.stats.set_value(keys.QUALITY, quality.figures())
        self.stats.set_value(keys.QUALITY_LAYOUT_UNKNOWN, quality.unknown_layout)
        try:
            history = [run["counts"]["quality"] for run in self.archive.runs.recent(50) if _has_quality(run)]
        except Exception as exc:  # an alarm that cannot look back must not fail the run
            logger.warning("Could not read earlier runs to check extraction drift: %s", exc)
            return
        alarms = quality.drift(
            history, runs=self.drift_runs, min_articles=self.drift_min_articles, points=self.drift_points
        )
        for alarm in alarms:
            logger.warning("%s", alarm.message())
        self.stats.set_value(keys.QUALITY_DRIFT, [alarm.as_document() for alarm in alarms])

    async def spider_closed(self, spider: Spider, reason: str) -> None:
        if self.archive is None:
            return
        self._flush()
        if self._pending:
            await maybe_deferred_to_future(DeferredList(list(self._pending)))
        self.stats.set_value(keys.STORAGE_RETRIES, self.counts["retries"])
        self.stats.set_value(keys.STORAGE_SPILLED, self.spill.count)
        self.stats.set_value(keys.STORAGE_LOST, self.spill.lost)
        counts = RunCounts.from_stats(self.stats.get_stats()).as_document()
        run = {**self._run, "finished_at": utc_now(), "finish_reason": reason, "counts": counts}
        try:
            await maybe_deferred_to_future(threads.deferToThread(self.archive.runs.finish, run))
        except Exception as exc:  # the run's own record must not hide the run's result, but it is not whole
            logger.error("Could not record the crawl run %s: %s", self.run_id, str(exc)[:300])
            self.stats.set_value(keys.RUN_NOT_RECORDED, 1)
        atexit.unregister(self._spill_on_exit)
        self.archive.close()
        if self.embedded is not None:
            self.embedded.stop()
            logger.info("Stopped the embedded MongoDB stand-in at %s", mask_uri(self.embedded.uri))
        if self.spill.count:
            logger.error("%d items were not stored; run: spacewar replay %s", self.spill.count, self.spill.path)
        if self.spill.lost:
            logger.error("%d items could neither be stored nor spilled: they are LOST", self.spill.lost)


def _has_quality(run: dict[str, Any]) -> bool:
    return isinstance(run.get("counts"), dict) and isinstance(run["counts"].get("quality"), dict)
