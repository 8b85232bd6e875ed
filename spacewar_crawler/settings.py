"""Scrapy settings for spacewar_crawler: every default in one place.

Override on the command line with `-s NAME=VALUE`; MONGO_* also come from the environment.
"""

from __future__ import annotations

import os

BOT_NAME = "spacewar_crawler"
SPIDER_MODULES = ["spacewar_crawler.spiders"]
NEWSPIDER_MODULE = "spacewar_crawler.spiders"
# Our `crawl` command: Scrapy's, with an exit status that says whether the run went well.
COMMANDS_MODULE = "spacewar_crawler.commands"

# Polite by default against the real site.
ROBOTSTXT_OBEY = True
USER_AGENT = "spacewar-crawler/0.1 (+https://github.com/spacewar-crawler/spacewar-crawler; archive bot)"
DOWNLOAD_DELAY = 1.0
CONCURRENT_REQUESTS = 8
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 1.0
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0
DOWNLOAD_TIMEOUT = 60
RETRY_ENABLED = True
RETRY_TIMES = 2
REDIRECT_MAX_TIMES = 5

ITEM_PIPELINES = {
    "spacewar_crawler.pipelines.ValidationPipeline": 200,
    "spacewar_crawler.pipelines.MongoArchivePipeline": 300,
}

DOWNLOADER_MIDDLEWARES = {
    # Scrapy's own lets requests that wait for robots.txt through; ours gives each of them the parser.
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "spacewar_crawler.middlewares.RobotsTxtObeyed": 100,
    "spacewar_crawler.middlewares.CrawlState": 50,
    # Before HttpCompressionMiddleware (590) inflates a body: a gzip bomb is refused by its size.
    "spacewar_crawler.middlewares.DecompressionGuard": 595,
    # After HttpCompressionMiddleware (590) has decoded the body, before RetryMiddleware (550).
    "spacewar_crawler.middlewares.WarcMiddleware": 580,
}
SPIDER_MIDDLEWARES = {
    # Article requests the crawl state would refuse (archived, already scheduled) never reach the scheduler.
    "spacewar_crawler.middlewares.ScheduleOnce": 950,
}
DUPEFILTER_CLASS = "spacewar_crawler.dupefilters.InRunDupeFilter"
EXTENSIONS = {
    "spacewar_crawler.extensions.JobdirRecovery": 0,
    "spacewar_crawler.extensions.CrawlSummary": 500,
}

# RSS feeds (paths under base_url) read as a start source unless `-a feeds=0`.
SPACEWAR_FEEDS = ["spacewar.xml", "missiledefense.xml", "Military_Technology.xml", "news/miltech-n.xml"]

# An article that could not be fetched for a reason that may pass (5xx, timeout, broken
# connection) is asked for again by later full runs until it has failed in this many runs.
SPACEWAR_RETRY_FAILED_RUNS = 3

# Set by the spider from its arguments (-a base_url=, section=, refresh=): read by the crawl state and the run record.
SPACEWAR_BASE_URL = "https://www.spacewar.com/"
SPACEWAR_SECTION = None
SPACEWAR_REFRESH = False
SPACEWAR_RUN_ARGS: dict[str, str | None] = {}

# Listing pages: at most this many older pages ("Older Superpowers News", ?page=N) per section and run; an older
# page that lists nothing the run has not seen ends the walk back in that section (crawl traps).
SPACEWAR_MAX_OLDER_PAGES = 200

# A news page is a few hundred KB: anything larger is refused (a decompression bomb, a runaway page), counted.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# The raw archive: every fetched article as WARC request/response records (see README).
WARC_ENABLED = True
WARC_DIR = "data/warc"
WARC_MAX_BYTES = 1_000_000_000
WARC_COMPRESSION_LEVEL = 1  # gzip level: 1 keeps the crawl fast; 9 makes files about a sixth smaller

# Parser behaviour (re-extract the archive with `python -m spacewar_crawler reextract -s ...`).
KEEP_IMAGE_CAPTIONS = False

# The drift alarm: a WARNING when a run's share of articles with author, dateline or images (per layout) is more
# than QUALITY_DRIFT_POINTS under the median of the last QUALITY_DRIFT_RUNS runs that had at least
# QUALITY_DRIFT_MIN_ARTICLES new or changed articles of that layout (this run needs as many).
QUALITY_DRIFT_RUNS = 5
QUALITY_DRIFT_MIN_ARTICLES = 20
QUALITY_DRIFT_POINTS = 20.0

FEED_EXPORT_ENCODING = "utf-8"
# A dropped item is logged as its URL and reason, bounded; never the whole item (a page, a fetched secret).
LOG_FORMATTER = "spacewar_crawler.extensions.BoundedLogFormatter"
LOG_LEVEL = "INFO"

# Storage (see README): unset MONGO_URI means the embedded stand-in under ./data/.
MONGO_ENABLED = True
MONGO_URI = os.environ.get("MONGO_URI")
MONGO_DATABASE = os.environ.get("MONGO_DATABASE", "spacewar")
MONGO_COLLECTION = os.environ.get("MONGO_COLLECTION", "articles")
MONGO_CONNECT_TIMEOUT = 3.0
MONGO_BATCH_SIZE = 100
MONGO_FLUSH_INTERVAL = 5.0
MONGO_RETRY_SECONDS = 120.0
MONGO_SPILL_DIR = "data/spill"
MONGO_EMBEDDED_DIR = "data/mongo"
MONGO_EMBEDDED_PORT = 27017

# An unattended crawler opens no listening ports of its own.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

# On-site links in an article's place (a headline list, RELATED CONTENT, a feed item) whose URL follows no known
# article rule (a short link, /go/N, a new URL scheme): at most this many are followed a run, each once, and kept
# if they lead to an article. Counted in spacewar/links/unknown_scheme*.
SPACEWAR_MAX_UNKNOWN_LINKS = 50

# Hosts that count as network sites besides the network's own 24 (site/urls.py NETWORK_SITES): a site that joined
# it, a mirror. Their article links are kept in `related`; only the crawled site is ever fetched.
SPACEWAR_EXTRA_NETWORK_HOSTS: list[str] = []
