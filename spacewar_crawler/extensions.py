"""Extensions: the end-of-run summary a person reads, and the recovery of a JOBDIR queue a hard kill left behind."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from itemadapter import ItemAdapter
from scrapy import signals
from scrapy.exceptions import NotConfigured
from scrapy.logformatter import LogFormatter, LogFormatterResult
from scrapy.utils.job import job_dir

from spacewar_crawler import stats as keys
from spacewar_crawler.reading.quality import FIGURES
from spacewar_crawler.stats import RunCounts

if TYPE_CHECKING:
    from scrapy import Spider
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)


class CrawlSummary:
    """Logs the crawl summary: pages, listings unchanged (304), articles by fate, drops, duration."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CrawlSummary:
        extension = cls(crawler)
        crawler.signals.connect(extension.spider_closed, signal=signals.spider_closed)
        return extension

    def spider_closed(self, spider: Spider, reason: str) -> None:
        logger.info("%s", self.render(reason))

    def render(self, reason: str) -> str:
        stats: dict[str, Any] = self.crawler.stats.get_stats() if self.crawler.stats else {}
        counts = RunCounts.from_stats(stats)

        def n(key: str) -> int:
            return int(stats.get(key, 0))

        started = stats.get("start_time")
        seconds = (datetime.now(UTC) - started).total_seconds() if started else 0.0
        lines = [
            f"Crawl summary ({reason}, {seconds:.1f} s):",
            f"  pages fetched: {counts.pages} "
            f"(articles {n(keys.PAGES_ARTICLE)}, listings {n(keys.PAGES_LISTING)}, feeds {n(keys.FEEDS_READ)})",
            f"  listings unchanged (304): {n(keys.LISTINGS_UNCHANGED)}",
            f"  articles: {counts.articles_new} new, {counts.articles_changed} changed, "
            f"{counts.articles_refreshed} refreshed, "
            f"{counts.articles_unchanged} unchanged, {n(keys.ARTICLES_SKIPPED_ARCHIVED)} skipped as archived",
            "  dropped: " + (", ".join(f"{kind} {count}" for kind, count in counts.dropped.items()) or "none"),
        ]
        if n(keys.ARTICLES_RETRIED):
            lines.insert(4, f"  asked for again after failing in an earlier run: {n(keys.ARTICLES_RETRIED)}")
        if n(keys.ARTICLES_LINKED):
            lines.insert(4, f"  asked for as linked from archived articles but never stored: {n(keys.ARTICLES_LINKED)}")
        if counts.quality:
            lines.append("  extraction, of the new, changed and refreshed articles:")
            for layout, row in counts.quality.items():
                shares = ", ".join(f"{name} {row[name]:.0f}%" for name in FIGURES)
                lines.append(f"    {layout:<14} {row['articles']:>6} articles: {shares}")
            lines.append(f"    read by the generic path (layout unknown): {counts.layout_unknown}")
        for alarm in counts.drift:
            example = alarm["examples"][0] if alarm["examples"] else "-"
            lines.append(
                f"  DRIFT: {alarm['figure']} {alarm['share']:.0f}% for {alarm['layout']} "
                f"(recent median {alarm['median']:.0f}%), e.g. {example}"
            )
        if counts.spilled:
            lines.append(f"  NOT STORED: {counts.spilled} items spilled (see the replay line above)")
        if counts.lost:
            lines.append(f"  LOST: {counts.lost} items could neither be stored nor spilled")
        if counts.warc_failed:
            lines.append(f"  ORIGINALS NOT KEPT: {counts.warc_failed} articles stored without their WARC record")
        written = counts.articles_new + counts.articles_changed + counts.articles_refreshed
        troubled = counts.spilled or counts.lost or n(keys.HOME_FAILED)
        if reason == "finished" and not written and not troubled:
            lines.insert(
                0,
                f"Nothing new: {n(keys.LISTINGS_UNCHANGED)} listings unchanged, "
                f"{n(keys.ARTICLES_SKIPPED_ARCHIVED)} archived articles skipped.",
            )
        return "\n".join(lines)


class JobdirRecovery:
    """Extension: sets aside a JOBDIR request queue that a hard kill left inconsistent.

    Scrapy writes `requests.queue/active.json` when a run closes; after SIGKILL (or a second
    Ctrl-C) it is missing and the queue files disagree with each other, so requests pushed
    onto them can be lost. Such a queue is renamed; the resumed run finds its work again
    from the listing pages, and the archive and CrawlState keep it from repeating any.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobdirRecovery:
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured  # without a message: Scrapy says nothing of it on every run without JOBDIR
        queue = Path(jobdir, "requests.queue")
        if queue.is_dir() and not (queue / "active.json").exists() and any(queue.iterdir()):
            aside = queue.with_name(f"requests.queue.unclean-{int(time.time())}")
            queue.rename(aside)
            logger.warning(
                "The last run in %s did not close cleanly: its request queue is set aside as %s", jobdir, aside
            )
        return cls()


class BoundedLogFormatter(LogFormatter):
    """Scrapy's log lines, with an item named by its URL: Scrapy's own log a dropped or scraped item whole, which is
    a line of megabytes for a large page, and puts whatever a page held (a fetched secret) into the log."""

    def dropped(self, item: Any, exception: BaseException, response: Any, spider: Any = None) -> LogFormatterResult:
        return {
            "level": logging.WARNING,
            "msg": "Dropped %(url)s: %(reason)s",
            "args": {"url": _url_of(item), "reason": _bounded(str(exception))},
        }

    def scraped(self, item: Any, response: Any, spider: Any = None) -> LogFormatterResult:
        return {"level": logging.DEBUG, "msg": "Scraped %(url)s", "args": {"url": _url_of(item)}}


def _url_of(item: Any) -> str:
    return _bounded(str(ItemAdapter(item).get("url") if ItemAdapter.is_item(item) else type(item).__name__))


def _bounded(text: str, limit: int = 300) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"
