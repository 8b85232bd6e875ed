"""Scheduled runs fetch only what is new: archived articles, 304 listings, feeds, resumable runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pymongo import MongoClient
from scrapy.exceptions import DownloadTimeoutError, IgnoreRequest, ResponseDataLossError
from scrapy.http import Request, Response
from scrapy.spidermiddlewares.httperror import HttpError
from twisted.python.failure import Failure

from spacewar_crawler.middlewares import RedirectLoop, SkippedArticle, articles_to_retry
from spacewar_crawler.site.urls import SiteUrls
from spacewar_crawler.spiders.spacewar import fetch_failure
from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import expected_articles
from tests.reliability_report import row

SECTION_LISTINGS = {
    "/Superpowers.html",
    "/Nuclear_Weapons.html",
    "/Missile_Defense.html",
    "/Military_Space.html",
    "/Military_Technology.html",
}
TEMPLATE = "reports/Space_Force_launches_new_GPS_III_satellite_999.html"


def article_paths(requests):
    return [p for p in requests if p.startswith(("/reports/", "/afp/"))]


def crawl(server, tmp_path, mongo_uri, db_name, *args, settings=None):
    return run_crawl(
        server.url,
        tmp_path,
        *args,
        settings={"MONGO_DATABASE": db_name, **(settings or {})},
        env={"MONGO_URI": mongo_uri},
    )


def add_article(root, name, title, dateline="Vandenberg CA (SPX) May 16, 2025"):
    """A new article page, made from an existing one with a new title, dateline and URL."""
    html = (root / TEMPLATE).read_text()
    html = html.replace("Space Force launches new GPS III satellite", title)
    html = html.replace("Cape Canaveral FL (SPX) May 14, 2025", dateline)
    (root / "reports" / name).write_text(html)
    return f"/reports/{name}"


def link_from_listing(root, listing, paths_and_titles):
    html = (root / listing).read_text()
    assert '<h1 class="section-title">' in html, f"{listing} has no place for teasers"
    links = "".join(f'<div class="teaser"><h2><a href="{p}">{t}</a></h2></div>\n' for p, t in paths_and_titles)
    (root / listing).write_text(html.replace('<h1 class="section-title">', links + '<h1 class="section-title">', 1))


def test_second_run_on_an_unchanged_site_fetches_no_article_and_gets_304_for_listings(
    mirror_copy, tmp_path, mongo_uri, db_name
):
    first = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert first.returncode == 0
    mirror_copy.clear_log()
    second = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert second.returncode == 0, second.log[-3000:]
    assert article_paths(mirror_copy.requests) == []
    listings = {p for p in mirror_copy.requests if p in SECTION_LISTINGS}
    assert listings == SECTION_LISTINGS
    assert all(mirror_copy.statuses(p) == [304] for p in SECTION_LISTINGS)
    assert second.stats["spacewar/listings/unchanged"] == 5
    assert second.stats["spacewar/articles/skipped_archived"] == 10  # distinct home page and feed links
    assert "spacewar/articles/new" not in second.stats
    assert MongoClient(mongo_uri)[db_name].articles.count_documents({}) == 32
    assert "Nothing new: 5 listings unchanged, 10 archived articles skipped." in second.log


def test_new_articles_on_one_listing_are_the_only_articles_fetched(mirror_copy, tmp_path, mongo_uri, db_name):
    crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    new = [
        add_article(
            mirror_copy.root, "Space_Force_tests_satellite_refuelling_999.html", "Space Force tests refuelling"
        ),
        add_article(
            mirror_copy.root, "Japan_launches_missile_warning_satellite_999.html", "Japan launches warning sat"
        ),
    ]
    link_from_listing(mirror_copy.root, "Military_Space.html", [(new[0], "Refuelling"), (new[1], "Warning satellite")])
    mirror_copy.clear_log()
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert sorted(article_paths(mirror_copy.requests)) == sorted(new)
    assert mirror_copy.statuses("/Military_Space.html") == [200]
    db = MongoClient(mongo_uri)[db_name]
    assert db.articles.count_documents({}) == 34
    assert db.articles.find_one({"_id": mirror_copy.url + new[0][1:]})["title"] == "Space Force tests refuelling"
    assert result.stats["spacewar/articles/new"] == 2


SITE = SiteUrls("https://www.spacewar.com/")
STORY = "https://www.spacewar.com/reports/Story_999.html"


def failure_of(exception: Exception) -> Failure:
    failure = Failure(exception)
    failure.request = Request(STORY)
    return failure


@pytest.mark.parametrize(
    ("exception", "detail", "status", "lasting"),
    [
        (HttpError(Response(STORY, status=503)), "http_503", 503, False),
        (HttpError(Response(STORY, status=500)), "http_500", 500, False),
        (HttpError(Response(STORY, status=408)), "http_408", 408, False),
        (HttpError(Response(STORY, status=429)), "http_429", 429, False),
        (DownloadTimeoutError("took too long"), "DownloadTimeoutError", None, False),
        (ResponseDataLossError(), "ResponseDataLossError", None, False),
        (ConnectionRefusedError(), "ConnectionRefusedError", None, False),
        (HttpError(Response(STORY, status=404)), "http_404", 404, True),
        (HttpError(Response(STORY, status=410)), "http_410", 410, True),
        (HttpError(Response(STORY, status=403)), "http_403", 403, True),
        (RedirectLoop(f"redirect loop: {STORY} -> {STORY}"), "redirect_loop", None, True),
        (IgnoreRequest("max redirections reached"), "too_many_redirects", None, True),
    ],
)
def test_fetch_failure_is_typed_where_it_happens(exception, detail, status, lasting):
    reject = fetch_failure(failure_of(exception))
    assert (reject.url, reject.kind, reject.detail, reject.status, reject.lasting) == (
        STORY,
        "fetch_failed",
        detail,
        status,
        lasting,
    )


def test_requests_skipped_on_purpose_are_no_fetch_failure():
    assert fetch_failure(failure_of(SkippedArticle(f"archived: {STORY}"))) is None
    assert fetch_failure(failure_of(IgnoreRequest("Forbidden by robots.txt"))) is None


def test_only_failures_that_may_pass_are_retried():
    assert articles_to_retry([{"url": STORY, "lasting": False}], frozenset(), SITE.is_article, 3) == [STORY]
    assert articles_to_retry([{"url": STORY, "lasting": True}], frozenset(), SITE.is_article, 3) == []


def test_retry_follows_the_last_failure_and_stops_at_the_run_limit():
    def failed(*lasting):
        return [{"url": STORY, "lasting": flag} for flag in lasting]

    assert articles_to_retry(failed(False, True), frozenset(), SITE.is_article, 3) == []
    assert articles_to_retry(failed(True, False), frozenset(), SITE.is_article, 3) == [STORY]
    assert articles_to_retry(failed(False, False), frozenset(), SITE.is_article, 3) == [STORY]
    assert articles_to_retry(failed(False, False, False), frozenset(), SITE.is_article, 3) == []
    assert articles_to_retry(failed(False), frozenset(), SITE.is_article, 0) == []


def test_archived_and_other_sites_articles_are_not_retried():
    other = "https://www.spacedaily.com/reports/Story_999.html"
    failures = [{"url": u, "lasting": False} for u in (STORY, other, None)]
    assert articles_to_retry(failures, frozenset(), SITE.is_article, 3) == [STORY]
    assert articles_to_retry(failures, frozenset({STORY}), SITE.is_article, 3) == []


GONE = "/reports/Hypersonic_glide_vehicle_test_fails_over_Pacific_999.html"  # a listing link that answers 404


def test_article_a_passing_fault_kept_out_is_asked_for_again_though_its_listing_is_unchanged(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability
):
    path = add_article(mirror_copy.root, "Busy_server_story_999.html", "Busy server story")
    link_from_listing(mirror_copy.root, "Military_Space.html", [(path, "Busy server story")])
    mirror_copy.faults[path] = "status:503"
    first = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert first.returncode == 0, first.log[-3000:]
    assert mirror_copy.requested(path) == 3
    db = MongoClient(mongo_uri)[db_name]
    assert db.articles.count_documents({}) == 32
    # A section run keeps to its listings, which are unchanged: no retries there.
    mirror_copy.clear_log()
    crawl(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "section=military-space")
    assert article_paths(mirror_copy.requests) == []
    del mirror_copy.faults[path]
    mirror_copy.clear_log()
    second = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert second.returncode == 0, second.log[-3000:]
    assert article_paths(mirror_copy.requests) == [path]  # not GONE: a 404 is not a passing fault
    assert mirror_copy.statuses("/Military_Space.html") == [304]
    assert second.stats["spacewar/articles/retried"] == 1
    assert "  asked for again after failing in an earlier run: 1" in second.log
    stored = db.articles.find_one({"_id": mirror_copy.url + path[1:]})
    assert (stored["title"], stored["section"]) == ("Busy server story", "Military Space")
    reliability.append(
        row(
            "network",
            "article answers 503 in one run; its listing answers 304 in the next",
            "asked for again by the next full run",
            "stored by the next run (1 request)",
            1,
            1,
            0,
        )
    )
    mirror_copy.clear_log()
    third = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert article_paths(mirror_copy.requests) == []
    assert "spacewar/articles/retried" not in third.stats


def test_article_that_keeps_failing_is_given_up_after_the_set_number_of_runs(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability
):
    path = add_article(mirror_copy.root, "Broken_server_story_999.html", "Broken server story")
    link_from_listing(mirror_copy.root, "Military_Space.html", [(path, "Broken server story")])
    mirror_copy.faults[path] = "status:500"
    runs = []
    for _ in range(3):
        mirror_copy.clear_log()
        crawl(mirror_copy, tmp_path, mongo_uri, db_name, settings={"SPACEWAR_RETRY_FAILED_RUNS": "2"})
        runs.append(mirror_copy.requested(path))
    assert runs == [3, 3, 0]
    rejects = MongoClient(mongo_uri)[db_name].rejects.find({"url": mirror_copy.url + path[1:]})
    assert [(r["reason"], r["status"], r["lasting"]) for r in rejects] == [("fetch_failed: http_500", 500, False)] * 2
    reliability.append(
        row(
            "network",
            "article answers 500 in every run (SPACEWAR_RETRY_FAILED_RUNS=2)",
            "asked for in 2 runs, then given up; each failure in rejects",
            f"requests per run: {', '.join(map(str, runs))}",
            0,
            0,
            0,
        )
    )


def test_refresh_refetches_archived_articles(mirror, tmp_path, mongo_uri, db_name):
    crawl(mirror, tmp_path, mongo_uri, db_name)
    result = crawl(mirror, tmp_path, mongo_uri, db_name, "-a", "refresh=1")
    assert result.stats["spacewar/pages/article"] == 32
    assert result.stats["spacewar/articles/unchanged"] == 32


def test_section_rerun_on_a_fresh_archive_stores_that_section_then_nothing_new(
    mirror_copy, tmp_path, mongo_uri, db_name
):
    first = crawl(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "section=military-technology")
    db = MongoClient(mongo_uri)[db_name]
    expected = sorted(u for u, e in expected_articles(mirror_copy.url).items() if e["section"] == "Military Technology")
    assert sorted(db.articles.distinct("url")) == expected
    assert first.stats["spacewar/articles/new"] == 5
    mirror_copy.clear_log()
    again = crawl(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "section=military-technology")
    assert again.returncode == 0
    assert article_paths(mirror_copy.requests) == []
    assert "spacewar/articles/new" not in again.stats
    assert db.articles.count_documents({}) == 5


def test_article_listed_only_in_a_feed_is_found_and_the_page_wins_over_the_feed(
    mirror_copy, tmp_path, mongo_uri, db_name
):
    crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    path = add_article(
        mirror_copy.root, "Feed_only_story_999.html", "Feed-only story", "Vandenberg CA (SPX) May 16, 2025"
    )
    feed = mirror_copy.root / "spacewar.xml"
    entry = (
        "<item><title>A different feed title</title>"
        f"<link>http://www.spacewar.com{path}</link><pubDate>Sat, 17 MAY 2025 08:00:00 AEST</pubDate></item>\n"
    )
    feed.write_text(feed.read_text().replace("<item>", entry + "<item>", 1))
    mirror_copy.clear_log()
    crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert article_paths(mirror_copy.requests) == [path]
    doc = MongoClient(mongo_uri, tz_aware=True)[db_name].articles.find_one({"_id": mirror_copy.url + path[1:]})
    assert (doc["title"], doc["published"].date().isoformat()) == ("Feed-only story", "2025-05-16")


def test_feed_date_is_the_fallback_when_the_page_has_no_date(mirror_copy, tmp_path, mongo_uri, db_name):
    page = mirror_copy.root / TEMPLATE
    html = page.read_text().replace("Cape Canaveral FL (SPX) May 14, 2025", "").replace("date 2025-05-14", "")
    page.write_text(html.replace('<meta property="article:published_time" content="2025-05-14T08:00:00+00:00">', ""))
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "feeds=1")
    item = result.by_url()[mirror_copy.url + TEMPLATE]
    # Feed: "Wed, 14 MAY 2025 09:30:00 AEST": the feed's own calendar date (in UTC it is still May 13).
    assert item["published"] == "2025-05-14"


def test_malformed_feed_is_counted_and_the_run_goes_on(mirror_copy, tmp_path, mongo_uri, db_name):
    (mirror_copy.root / "missiledefense.xml").write_text("<html><body>Not a feed</body></html>")
    (mirror_copy.root / "Military_Technology.xml").write_text("<rss><channel><item><title>cut off")
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    stats = result.stats
    assert (stats["spacewar/feeds/malformed"], stats["spacewar/feeds/read"], stats["spacewar/feeds/recovered"]) == (
        1,
        3,
        1,
    )
    assert len(result.items) == 32


def test_feeds_off_reads_no_feed(mirror_copy, tmp_path, mongo_uri, db_name):
    crawl(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "feeds=0")
    assert not [p for p in mirror_copy.requests if p.endswith(".xml")]


@pytest.mark.parametrize("section", ["nuclear-weapons", "Nuclear Weapons"])
def test_stats_command_shows_the_runs_just_made(mirror, tmp_path, mongo_uri, db_name, section):
    crawl(mirror, tmp_path, mongo_uri, db_name, "-a", f"section={section}")
    shown = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "stats", "--mongo-uri", mongo_uri, "--db", db_name],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert f"section={section}" in shown.stdout
    assert "finished" in shown.stdout
    assert "nuclear-weapons" in shown.stdout
