"""The duplicate filter of a run (`DUPEFILTER_CLASS`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.dupefilters import RFPDupeFilter

if TYPE_CHECKING:
    from scrapy.crawler import Crawler


class InRunDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, for one process only.

    Scrapy persists seen fingerprints in JOBDIR, so after a hard kill the requests that were
    in flight count as seen and are never fetched. Here a resumed run revisits the home
    and listing pages and finds them again; CrawlState keeps articles from being fetched twice.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> InRunDupeFilter:
        return cls(
            None,
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )
