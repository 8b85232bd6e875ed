"""What makes a scheduled run cheap: archived articles are not fetched again, and a resumed
run (JOBDIR) neither loses work that was in flight nor fetches an article twice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest

from spacewar_crawler.signals import archive_opened

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

ARTICLE_META = "spacewar_article"


class InRunDupeFilter(RFPDupeFilter):
    """Scrapy's duplicate filter, for one process only.

    Scrapy persists seen fingerprints in JOBDIR, so after a hard kill the requests that were
    in flight count as seen and are never fetched. Here a resumed run revisits the home
    and listing pages and finds them again; ArticleGate keeps articles from being fetched twice.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> InRunDupeFilter:
        return cls(
            None,
            debug=crawler.settings.getbool("DUPEFILTER_DEBUG"),
            fingerprinter=crawler.request_fingerprinter,
        )


class ArticleGate:
    """Downloader middleware: each article URL reaches the downloader once per run, and
    an archived one not at all (unless the spider runs with refresh=1).

    The spider already skips archived URLs before scheduling them; the gate also covers
    requests restored from a JOBDIR queue that the resumed run found again.
    """

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.archived: frozenset[str] = frozenset()
        self.claimed: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ArticleGate:
        gate = cls(crawler)
        crawler.signals.connect(gate.archive_opened, signal=archive_opened)
        return gate

    def archive_opened(self, archived_urls: frozenset[str], **kwargs: Any) -> None:
        self.archived = archived_urls

    def process_request(self, request: Request) -> None:
        if not request.meta.get(ARTICLE_META) or request.meta.get("retry_times"):
            return
        refresh = getattr(self.crawler.spider, "refresh", False)
        if request.url in self.archived and not refresh:
            self._ignore("archived", request)
        if request.url in self.claimed:
            self._ignore("duplicate", request)
        self.claimed.add(request.url)

    def _ignore(self, reason: str, request: Request) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"spacewar/gate/{reason}")
        raise IgnoreRequest(f"{reason}: {request.url}")
