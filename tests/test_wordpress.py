"""A site of the WordPress generation (the network's move of 2026), crawled end to end: generation detection, its
sitemaps, feeds, category pages and REST API, old URLs that redirect, incremental reruns, and a home page that shows
no generation at all."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pymongo import MongoClient

from spacewar_crawler.archive.mongo import MongoArchive
from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import WORDPRESS, WORDPRESS_SITE_URL, MirrorServer, expected_articles

OLD_RAPTOR = "/reports/The_Raptor_3_was_supposed_to_be_simpler_999.html"
RAPTOR = "/the-raptor-3-was-supposed-to-be-simpler/"
LUNAR = "/lunar-lander-engine-test-fired-for-the-first-time/"
POSTS = sorted(
    ["/century-old-solar-records-refine-future-cycle-forecasts-999/", "/europe-ai-act-commission-fines-august-2026/",
     RAPTOR, "/ocean-heat-content-set-another-record-in-2025/", LUNAR]
)  # fmt: skip


@pytest.fixture
def wordpress(tmp_path):
    """A private, editable copy of the WordPress mirror, served on its own port."""
    root = tmp_path / "wordpress"
    shutil.copytree(WORDPRESS / "site", root)
    redirects = json.loads((WORDPRESS / "redirects.json").read_text())
    server = MirrorServer(root, redirects, site_url=WORDPRESS_SITE_URL).start()
    yield server
    server.stop()


def crawl(site, tmp_path, mongo_uri, db_name, *args):
    return run_crawl(site.url, tmp_path, *args, settings={"MONGO_DATABASE": db_name}, env={"MONGO_URI": mongo_uri})


def fetched_posts(site) -> list[str]:
    return sorted(path for path in set(site.requests) if path in POSTS or path in (OLD_RAPTOR, "/go/7"))


def stored(mongo_uri, db_name) -> dict[str, dict]:
    return {doc["_id"]: doc for doc in MongoClient(mongo_uri, tz_aware=True)[db_name].articles.find()}


def test_a_wordpress_site_is_told_and_crawled_from_its_sitemaps_feeds_categories_and_api(
    wordpress, tmp_path, mongo_uri, db_name
):
    result = crawl(wordpress, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0, result.log[-3000:]
    assert re.search(r"INFO: \S+ serves the wordpress generation: generator meta 'WordPress 6\.7\.1'", result.log)
    expected = expected_articles(wordpress.url, WORDPRESS / "expected")
    items = result.by_url()
    assert sorted(items) == sorted(expected)
    for url, item in items.items():
        kept = {k: v for k, v in item.items() if k not in ("fetched_at", "content_hash", "warc_file", "warc_offset")}
        assert {**kept, "aliases": []} == {**expected[url], "aliases": []}
    stats = result.stats
    assert (stats["spacewar/generation/wordpress"], stats["spacewar/sitemaps/read"]) == (1, 2)  # index, posts
    assert stats["spacewar/wordpress/api_pages"] == 1
    assert stats["spacewar/feeds/read"] == 3  # /feed/ and both categories' feeds
    assert stats["spacewar/layout/wordpress"] == 5
    # Only the sitemap lists the ocean-heat post, only the feed (and a /go/ short link) the lunar lander's.
    assert wordpress.requested("/ocean-heat-content-set-another-record-in-2025/") == 1
    assert wordpress.requested(LUNAR) == 1
    # Each post fetched once, though up to five sources list it; no page of the users', tags' or pages' sitemaps.
    assert all(wordpress.requested(path) == 1 for path in POSTS)
    assert [p for p in wordpress.requests if "users" in p or "taxonomies" in p or "posts-page" in p] == []
    # Nothing fetched anywhere else: every request Scrapy sent reached this server (no sister site, no feed host).
    assert stats["downloader/request_count"] == len(wordpress.requests)
    assert "spacewar/offsite/refused" not in stats


def test_old_urls_that_redirect_are_aliases_of_one_document(wordpress, tmp_path, mongo_uri, db_name):
    assert crawl(wordpress, tmp_path, mongo_uri, db_name).returncode == 0
    docs = stored(mongo_uri, db_name)
    assert sorted(docs) == sorted(wordpress.url.rstrip("/") + path for path in POSTS)
    assert docs[wordpress.url.rstrip("/") + RAPTOR]["aliases"] == [wordpress.url.rstrip("/") + OLD_RAPTOR]
    assert docs[wordpress.url.rstrip("/") + LUNAR]["aliases"] == [wordpress.url + "go/7"]
    shown = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "show", wordpress.url.rstrip("/") + OLD_RAPTOR,
         "--mongo-uri", mongo_uri, "--db", db_name], cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["url"] == wordpress.url.rstrip("/") + RAPTOR
    stats = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "stats", "--mongo-uri", mongo_uri, "--db", db_name],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert re.search(r"Sites \(generation last seen\):\n  127\.0\.0\.1 +wordpress +\d{4}-", stats.stdout)


def test_a_rerun_with_nothing_changed_fetches_no_article(wordpress, tmp_path, mongo_uri, db_name):
    first = crawl(wordpress, tmp_path, mongo_uri, db_name)
    assert first.returncode == 0
    # The home page links a WordPress page as if it were news: read once, found to be no post.
    assert wordpress.requested("/privacy-policy/") == 1
    assert first.stats["spacewar/dropped/not_an_article"] == 1
    wordpress.clear_log()
    second = crawl(wordpress, tmp_path, mongo_uri, db_name)
    assert second.returncode == 0, second.log[-3000:]
    assert fetched_posts(wordpress) == []
    assert "spacewar/pages/article" not in second.stats
    assert "/privacy-policy/" not in wordpress.requests  # a page, not a post: not asked for again
    assert second.stats["spacewar/articles/skipped_not_article"] == 1


def test_a_modified_post_is_fetched_once_and_its_previous_text_kept(wordpress, tmp_path, mongo_uri, db_name):
    assert crawl(wordpress, tmp_path, mongo_uri, db_name).returncode == 0
    root = wordpress.root
    page = root / RAPTOR.strip("/") / "index.html"
    page.write_text(
        page.read_text()
        .replace("2026-01-29T08:00:00+10:00", "2026-02-05T12:00:00+10:00")
        .replace("most firings", "every firing since January"),
        encoding="utf-8",
    )
    for name in ("wp-sitemap-posts-post-1.xml", "wp-json/wp/v2/posts/index.json"):
        file = root / name
        text = file.read_text().replace("2026-01-29T08:00:00+10:00", "2026-02-05T12:00:00+10:00")
        file.write_text(text.replace("2026-01-28T22:00:00", "2026-02-05T02:00:00"), encoding="utf-8")
    wordpress.clear_log()
    second = crawl(wordpress, tmp_path, mongo_uri, db_name)
    assert second.returncode == 0, second.log[-3000:]
    assert fetched_posts(wordpress) == [RAPTOR]
    assert wordpress.requested(RAPTOR) == 1
    assert second.stats["spacewar/articles/modified"] == 1
    assert second.stats["spacewar/articles/changed"] == 1
    db = MongoClient(mongo_uri)[db_name]
    url = wordpress.url.rstrip("/") + RAPTOR
    assert "every firing since January" in db.articles.find_one({"_id": url})["body"]
    revisions = list(db.revisions.find({"url": url}))
    assert len(revisions) == 1
    assert "most firings" in revisions[0]["body"]


def test_an_article_archived_under_its_old_url_is_merged_into_the_new_one(wordpress, tmp_path, mongo_uri, db_name):
    """Archived in the classic era under /reports/..._999.html; the site moves and the old URL now redirects."""
    old = wordpress.url.rstrip("/") + OLD_RAPTOR
    new = wordpress.url.rstrip("/") + RAPTOR
    archive = MongoArchive(mongo_uri, db_name, "articles", connect_timeout=5.0)
    archive.ensure_indexes()
    classic = {"url": old, "modified": None, "aliases": [], "body": "The classic-era text.", "layout": "smn-classic"}
    item = {**expected_articles(wordpress.url, WORDPRESS / "expected")[new], **classic}
    archive.articles.upsert_batch([{**item, "content_hash": "old", "fetched_at": "2026-01-28T09:00:00Z"}])
    archive.sites.seen("127.0.0.1", wordpress.url, "classic")
    first_seen = archive.articles.article(old)["first_seen"]
    archive.close()
    # The old URL is linked from an article's RELATED CONTENT: the redirect is seen when the new one is crawled.
    result = crawl(wordpress, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    assert re.search(r"WARNING: \S+ served the classic generation when last crawled \(\d{4}-\d\d-\d\d\) and serves "
                     r"wordpress now", result.log)  # fmt: skip
    assert result.stats["spacewar/articles/move_checks"] == 1
    docs = stored(mongo_uri, db_name)
    assert old not in docs
    assert docs[new]["aliases"] == [old]
    assert docs[new]["first_seen"] == first_seen
    db = MongoClient(mongo_uri)[db_name]
    assert [r["body"] for r in db.revisions.find({"url": new})] == ["The classic-era text."]
    assert len(docs) == len(POSTS)


def test_a_site_whose_generation_cannot_be_told_fails_and_says_what_was_looked_for(tmp_path, mongo_uri, db_name):
    root = tmp_path / "plain"
    root.mkdir()
    (root / "index.html").write_text(
        "<html><head><title>Under construction</title></head><body><h1>Coming soon</h1>"
        '<p>A new site is on its way. <a href="/contact">Contact us</a></p></body></html>'
    )
    site = MirrorServer(Path(root), {}).start()
    try:
        result = crawl(site, tmp_path, mongo_uri, db_name)
    finally:
        site.stop()
    assert result.returncode == 1
    errors = [line for line in result.log.splitlines() if " ERROR: " in line]
    assert len(errors) == 1, errors
    assert "Cannot tell which generation" in errors[0]
    assert all(looked_for in errors[0] for looked_for in ("generator meta", "/wp-json/", "/reports/"))
    assert result.stats["spacewar/generation/unknown"] == 1
