"""One block at the end of every run that a person reads: what was fetched, stored, dropped."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from scrapy import signals

from spacewar_crawler.quality import DRIFT_STATS, FIGURES, QUALITY_STATS, UNKNOWN_LAYOUT_STATS

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

        def n(key: str) -> int:
            return int(stats.get(f"spacewar/{key}", 0))

        started = stats.get("start_time")
        seconds = (datetime.now(UTC) - started).total_seconds() if started else 0.0
        dropped = {k.rsplit("/", 1)[1]: v for k, v in stats.items() if k.startswith("spacewar/dropped/")}
        lines = [
            f"Crawl summary ({reason}, {seconds:.1f} s):",
            f"  pages fetched: {stats.get('response_received_count', 0)} "
            f"(articles {n('pages/article')}, listings {n('pages/listing')}, feeds {n('feeds/read')})",
            f"  listings unchanged (304): {n('listings/unchanged')}",
            f"  articles: {n('articles/new')} new, {n('articles/changed')} changed, "
            f"{n('articles/refreshed')} refreshed, "
            f"{n('articles/unchanged')} unchanged, {n('articles/skipped_archived')} skipped as archived",
            "  dropped: " + (", ".join(f"{reason} {count}" for reason, count in sorted(dropped.items())) or "none"),
        ]
        if n("articles/retried"):
            lines.insert(4, f"  asked for again after failing in an earlier run: {n('articles/retried')}")
        figures = stats.get(QUALITY_STATS) or {}
        if figures:
            lines.append("  extraction, of the new, changed and refreshed articles:")
            for layout, row in figures.items():
                shares = ", ".join(f"{name} {row[name]:.0f}%" for name in FIGURES)
                lines.append(f"    {layout:<14} {row['articles']:>6} articles: {shares}")
            lines.append(f"    read by the generic path (layout unknown): {stats.get(UNKNOWN_LAYOUT_STATS, 0)}")
        for alarm in stats.get(DRIFT_STATS) or []:
            lines.append(
                f"  DRIFT: {alarm['figure']} {alarm['share']:.0f}% for {alarm['layout']} "
                f"(recent median {alarm['median']:.0f}%), e.g. {alarm['examples'][0] if alarm['examples'] else '-'}"
            )
        if n("storage/spilled"):
            lines.append(f"  NOT STORED: {n('storage/spilled')} items spilled (see the replay line above)")
        if reason == "finished" and not n("articles/new") and not n("articles/changed") and not n("articles/refreshed"):
            lines.insert(
                0,
                f"Nothing new: {n('listings/unchanged')} listings unchanged, "
                f"{n('articles/skipped_archived')} archived articles skipped.",
            )
        return "\n".join(lines)
