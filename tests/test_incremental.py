"""Scheduled runs fetch only what is new: archived articles, 304 listings, feeds, resumable runs."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pymongo import MongoClient

from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import expected_articles

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
    # Feed: "Wed, 14 MAY 2025 09:30:00 AEST", that is 2025-05-13 23:30 UTC.
    assert item["published"] == "2025-05-13"


def test_malformed_feed_is_counted_and_the_run_goes_on(mirror_copy, tmp_path, mongo_uri, db_name):
    (mirror_copy.root / "missiledefense.xml").write_text("<rss><channel><item><title>cut off")
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    assert (result.stats["spacewar/feeds/malformed"], result.stats["spacewar/feeds/read"]) == (1, 3)
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
