"""What makes a scheduled run cheap and complete: archived articles are not fetched again,
articles that a passing fault kept out are asked for again, and a resumed run (JOBDIR)
neither loses work that was in flight nor fetches an article twice."""

from __future__ import annotations

import logging
import re
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from scrapy.dupefilters import RFPDupeFilter
from scrapy.exceptions import IgnoreRequest, NotConfigured
from scrapy.utils.job import job_dir

from spacewar_crawler.signals import archive_opened

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

ARTICLE_META = "spacewar_article"
# Failures (reasons as the spider records them) that the next run would meet again: the page is
# gone or forbidden, or the site loops. Anything else (5xx, 408, 429, timeouts, broken connections) may pass.
_LASTING_FAILURE = re.compile(r"fetch_failed: (http_4(?!08|29)\d\d|redirect_loop|too_many_redirects)")


def articles_to_retry(
    failures: Iterable[Mapping[str, Any]], archived: frozenset[str], is_article: Callable[[str], bool], max_runs: int
) -> list[str]:
    """Articles worth another try: not archived, last failure one that may pass, fewer than `max_runs` failures.

    `failures` are the archive's fetch failures (url, reason), oldest first, one per run that failed.
    """
    failed_runs: Counter[str] = Counter()
    last_reason: dict[str, str] = {}
    for failure in failures:
        url = failure["url"]
        if url and url not in archived and is_article(url):
            failed_runs[url] += 1
            last_reason[url] = failure["reason"]
    return [
        url for url, runs in failed_runs.items() if runs < max_runs and not _LASTING_FAILURE.fullmatch(last_reason[url])
    ]


class SkippedArticle(IgnoreRequest):
    """An article request not sent on purpose: archived already, or a duplicate in this run."""


class JobdirRecovery:
    """Extension: sets aside a JOBDIR request queue that a hard kill left inconsistent.

    Scrapy writes `requests.queue/active.json` when a run closes; after SIGKILL (or a second
    Ctrl-C) it is missing and the queue files disagree with each other, so requests pushed
    onto them can be lost. Such a queue is renamed; the resumed run finds its work again
    from the listing pages, and the archive and ArticleGate keep it from repeating any.
    """

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> JobdirRecovery:
        jobdir = job_dir(crawler.settings)
        if not jobdir:
            raise NotConfigured("no JOBDIR")
        queue = Path(jobdir, "requests.queue")
        if queue.is_dir() and not (queue / "active.json").exists() and any(queue.iterdir()):
            aside = queue.with_name(f"requests.queue.unclean-{int(time.time())}")
            queue.rename(aside)
            logger.warning(
                "The last run in %s did not close cleanly: its request queue is set aside as %s", jobdir, aside
            )
        return cls()


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
    """Downloader middleware: each article URL reaches the downloader once per run, an
    archived one not at all (unless the spider runs with refresh=1), and a redirect loop
    is stopped at its first turn.

    Article requests bypass Scrapy's duplicate filter (so that a redirect loop is seen
    here rather than silently filtered); the spider skips archived and already scheduled
    URLs before scheduling, and the gate also covers requests restored from a JOBDIR queue
    that the resumed run found again.
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
        if request.url in request.meta.get("redirect_urls", ()):
            raise IgnoreRequest(f"redirect loop: {' -> '.join([*request.meta['redirect_urls'], request.url])}")
        refresh = getattr(self.crawler.spider, "refresh", False)
        if request.url in self.archived and not refresh:
            self._ignore("archived", request)
        if request.url in self.claimed:
            self._ignore("duplicate", request)
        self.claimed.add(request.url)

    def _ignore(self, reason: str, request: Request) -> None:
        assert self.crawler.stats is not None
        self.crawler.stats.inc_value(f"spacewar/gate/{reason}")
        raise SkippedArticle(f"{reason}: {request.url}")
