"""Item pipelines: validate the finished article (the page object cleans it; storage lives in storage.py)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from itemadapter import ItemAdapter
from scrapy.exceptions import DropItem

from spacewar_crawler.items import RejectedPage

if TYPE_CHECKING:
    from scrapy.crawler import Crawler
    from scrapy.statscollectors import StatsCollector

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
            self._drop(item.url, item.reason)
        adapter = ItemAdapter(item)
        for name in REQUIRED_FIELDS:
            if not adapter.get(name):
                self._drop(adapter.get("url"), f"missing_{name}")
        return item

    def _drop(self, url: str | None, reason: str) -> None:
        self.stats.inc_value(f"spacewar/dropped/{reason.split(':', 1)[0]}")
        logger.warning("Dropped %s: %s", url, reason)
        raise DropItem(reason)
