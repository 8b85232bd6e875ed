"""`scrapy crawl`, with an exit status a scheduler can act on.

Scrapy's own command exits 0 whenever the spider could start. A cron job or scrapyd also
needs to know when a run ended badly: an unknown section, items that storage could not
keep, or any close reason other than "finished".
"""

from __future__ import annotations

import argparse

from scrapy.commands.crawl import Command as ScrapyCrawlCommand
from scrapy.exceptions import UsageError

from spacewar_crawler.site.urls import SiteUrls
from spacewar_crawler.stats import FAILED


class Command(ScrapyCrawlCommand):
    def run(self, args: list[str], opts: argparse.Namespace) -> None:
        if len(args) != 1:
            raise UsageError("scrapy crawl takes exactly one spider name")
        assert self.crawler_process is not None
        base_url = opts.spargs.get("base_url")
        if base_url is not None:
            try:
                SiteUrls(base_url)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
        crawler = self._create_crawler(args[0])
        self.crawler_process.crawl(crawler, **opts.spargs)
        self.crawler_process.start()
        stats = crawler.stats.get_stats() if crawler.stats else {}
        finished = stats.get("finish_reason") == "finished"
        if self.crawler_process.bootstrap_failed or not finished or any(stats.get(k) for k in FAILED):
            self.exitcode = 1
