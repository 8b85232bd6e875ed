"""The project's stats keys, and the run's counts computed from them once, for the summary and `crawl_runs`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

PAGES_HOME = "spacewar/pages/home"
PAGES_LISTING = "spacewar/pages/listing"
PAGES_ARTICLE = "spacewar/pages/article"
PAGES_NOT_LISTING = "spacewar/pages/not_listing"
FEEDS_READ = "spacewar/feeds/read"
FEEDS_MALFORMED = "spacewar/feeds/malformed"
FEEDS_RECOVERED = "spacewar/feeds/recovered"
LISTINGS_UNCHANGED = "spacewar/listings/unchanged"
ARTICLES_YIELDED = "spacewar/articles/yielded"
ARTICLES_OTHER_SECTION = "spacewar/articles/other_section"
ARTICLES_RETRIED = "spacewar/articles/retried"
ARTICLES_LINKED = "spacewar/articles/linked_missing"
ARTICLES_SKIPPED_ARCHIVED = "spacewar/articles/skipped_archived"
SKIPPED_NOT_ARTICLE = "spacewar/articles/skipped_not_article"
"""Links to pages an earlier run found to be no article (a WordPress page, a listing): not asked for again."""
ARTICLE_KINDS = ("new", "changed", "refreshed", "unchanged")
PARSE_ERRORS = "spacewar/parse_errors"
ARTICLE_LINKS = "spacewar/articles/linked"
NO_ARTICLES = "spacewar/site/no_articles"
GATE_DUPLICATE = "spacewar/gate/duplicate"
STORAGE_SPILLED = "spacewar/storage/spilled"
STORAGE_LOST = "spacewar/storage/lost"
RUN_NOT_RECORDED = "spacewar/storage/run_not_recorded"
WARC_FAILED = "spacewar/warc/failed"
OFFSITE = "spacewar/offsite/refused"
HOME_FAILED = "spacewar/pages/home_failed"
LISTINGS_DEPTH_LIMIT = "spacewar/listings/depth_limit"
LISTINGS_NOTHING_NEW = "spacewar/listings/nothing_new"
GENERATION = "spacewar/generation/"
"""+ classic | wordpress: the generation the site's home page showed (1)."""
GENERATION_UNKNOWN = "spacewar/generation/unknown"
SITE_MOVED = "spacewar/site/moved"
SITEMAPS_READ = "spacewar/sitemaps/read"
SITEMAPS_MALFORMED = "spacewar/sitemaps/malformed"
API_PAGES = "spacewar/wordpress/api_pages"
API_UNAVAILABLE = "spacewar/wordpress/api_unavailable"
ARTICLES_MODIFIED = "spacewar/articles/modified"
"""Archived articles asked for again because the site says they changed (sitemap lastmod, REST API modified)."""
UNKNOWN_LINKS = "spacewar/links/unknown_scheme"
"""On-site links in an article's place whose URL follows no known rule, followed once to see what they are."""
UNKNOWN_KEPT = "spacewar/links/unknown_scheme_kept"
UNKNOWN_NOT_ARTICLE = "spacewar/links/unknown_scheme_not_article"
UNKNOWN_LIMIT = "spacewar/links/unknown_scheme_limit"
MOVE_CHECKS = "spacewar/articles/move_checks"
"""Articles archived under a classic URL of a site now on WordPress, asked for again to see where they moved."""
ALIASES = "spacewar/articles/aliases"
"""Old URLs found redirecting to an article's URL (kept as its aliases)."""
# A run with any of these did not keep everything it fetched, or did not reach the site: exit status 1.
FAILED = (STORAGE_SPILLED, STORAGE_LOST, RUN_NOT_RECORDED, WARC_FAILED, HOME_FAILED, NO_ARTICLES, GENERATION_UNKNOWN)
STORAGE_RETRIES = "spacewar/storage/retries"
QUALITY = "spacewar/quality"
QUALITY_LAYOUT_UNKNOWN = "spacewar/quality_layout_unknown"
QUALITY_DRIFT = "spacewar/quality_drift"
DROPPED = "spacewar/dropped/"
FETCH_FAILED = "spacewar/fetch_failed/"
LAYOUT = "spacewar/layout/"


def articles(kind: str) -> str:
    """The key of the articles storage wrote as `kind` (one of ARTICLE_KINDS)."""
    return f"spacewar/articles/{kind}"


@dataclass
class RunCounts:
    """What a run did, as the summary prints it and `crawl_runs.counts` keeps it."""

    pages: int = 0
    articles_new: int = 0
    articles_changed: int = 0
    articles_refreshed: int = 0
    articles_unchanged: int = 0
    quality: dict[str, Any] = field(default_factory=dict)
    layout_unknown: int = 0
    drift: list[dict[str, Any]] = field(default_factory=list)
    dropped: dict[str, int] = field(default_factory=dict)
    errors: int = 0
    spilled: int = 0
    lost: int = 0
    warc_failed: int = 0

    @classmethod
    def from_stats(cls, stats: Mapping[str, Any]) -> RunCounts:
        return cls(
            pages=stats.get("response_received_count", 0),
            articles_new=stats.get(articles("new"), 0),
            articles_changed=stats.get(articles("changed"), 0),
            articles_refreshed=stats.get(articles("refreshed"), 0),
            articles_unchanged=stats.get(articles("unchanged"), 0),
            quality=stats.get(QUALITY) or {},
            layout_unknown=stats.get(QUALITY_LAYOUT_UNKNOWN, 0),
            drift=stats.get(QUALITY_DRIFT) or [],
            dropped={k.removeprefix(DROPPED): v for k, v in sorted(stats.items()) if k.startswith(DROPPED)},
            errors=sum(v for k, v in stats.items() if k.startswith((FETCH_FAILED, "spider_exceptions/"))),
            spilled=stats.get(STORAGE_SPILLED, 0),
            lost=stats.get(STORAGE_LOST, 0),
            warc_failed=stats.get(WARC_FAILED, 0),
        )

    def as_document(self) -> dict[str, Any]:
        return asdict(self)
