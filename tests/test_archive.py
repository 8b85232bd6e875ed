"""The MongoDB archive against a real socket: data model, change tracking, types."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from spacewar_crawler.archive.documents import to_item
from spacewar_crawler.archive.errors import ArchiveUnavailable
from spacewar_crawler.archive.mongo import ArchiveConfig, connect_archive, mask_uri
from spacewar_crawler.reading.article import content_hash
from tests.mongo_server import free_port


def article(url="https://www.spacewar.com/reports/A_999.html", title="Title A", body="Body A.", **extra):
    item = {
        "url": url,
        "site": "www.spacewar.com",
        "section": "Superpowers",
        "section_slug": "superpowers",
        "title": title,
        "author": "AFP Staff Writers",
        "dateline": "Beijing (AFP) May 15, 2025",
        "location": "Beijing",
        "agency": "AFP",
        "published": "2025-05-15",
        "body": body,
        "images": [],
        "related": [],
        "related_links": [],
        "content_hash": content_hash(title, body),
        "fetched_at": "2026-11-29T09:00:00Z",
    }
    item.update(extra)
    return item


def test_new_article_is_stored_with_bson_dates_and_tracking_fields(archive):
    result = archive.articles.upsert_batch([article()])
    assert (result.new, result.changed, result.unchanged, result.failed) == (1, 0, 0, [])
    doc = archive.articles.collection.find_one({"_id": "https://www.spacewar.com/reports/A_999.html"})
    assert doc["url"] == doc["_id"]
    assert doc["published"] == datetime(2025, 5, 15, tzinfo=UTC)
    assert doc["fetched_at"] == datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
    for name in ("first_seen", "last_seen", "last_changed"):
        assert isinstance(doc[name], datetime), name
    assert doc["first_seen"] == doc["last_seen"] == doc["last_changed"]


def test_unchanged_article_only_moves_last_seen(archive):
    archive.articles.upsert_batch([article()])
    before = archive.articles.collection.find_one({})
    result = archive.articles.upsert_batch([article(fetched_at="2026-11-30T09:00:00Z")])
    after = archive.articles.collection.find_one({})
    assert (result.new, result.changed, result.unchanged) == (0, 0, 1)
    assert isinstance(after["last_seen"], datetime)
    assert after["last_seen"] >= before["last_seen"]
    assert {k: v for k, v in after.items() if k != "last_seen"} == {k: v for k, v in before.items() if k != "last_seen"}
    assert archive.articles.revisions.count_documents({}) == 0


def test_changed_article_is_replaced_and_its_previous_text_kept_as_a_revision(archive):
    archive.articles.upsert_batch([article()])
    first = archive.articles.collection.find_one({})
    result = archive.articles.upsert_batch([article(title="Title A, updated", body="Body A, corrected.")])
    doc = archive.articles.collection.find_one({})
    assert (result.new, result.changed, result.unchanged) == (0, 1, 0)
    assert (doc["title"], doc["body"]) == ("Title A, updated", "Body A, corrected.")
    assert doc["first_seen"] == first["first_seen"]
    assert doc["last_changed"] > first["last_changed"]
    # Round-tripped types stay dates on an updated document too.
    assert all(isinstance(doc[n], datetime) for n in ("published", "fetched_at", "first_seen", "last_seen"))
    revisions = list(archive.articles.revisions.find({}, {"_id": 0}))
    assert revisions == [
        {
            "url": "https://www.spacewar.com/reports/A_999.html",
            "content_hash": content_hash("Title A", "Body A."),
            "title": "Title A",
            "body": "Body A.",
            "seen_from": first["last_changed"],
            "seen_until": doc["last_changed"],
        }
    ]


def test_replaying_a_batch_after_a_lost_connection_adds_nothing(archive):
    batch = [article(), article(url="https://www.spacewar.com/reports/B_999.html")]
    archive.articles.upsert_batch(batch)
    again = archive.articles.upsert_batch(batch)
    assert (again.new, again.changed, again.unchanged) == (0, 0, 2)
    assert archive.articles.collection.count_documents({}) == 2


def test_duplicate_urls_in_one_batch_store_one_document(archive):
    result = archive.articles.upsert_batch([article(body="First."), article(body="Second.")])
    assert result.new == 1
    assert [d["body"] for d in archive.articles.collection.find({})] == ["Second."]


def test_concurrent_writers_of_the_same_urls_store_one_document_each(archive, mongo_uri, db_name):
    from spacewar_crawler.archive.mongo import MongoArchive

    batch = [article(url=f"https://www.spacewar.com/reports/N{i}_999.html") for i in range(20)]
    stores = [MongoArchive(mongo_uri, db_name, "articles", connect_timeout=5.0) for _ in range(3)]
    results = []
    threads = [threading.Thread(target=lambda s=s: results.append(s.articles.upsert_batch(batch))) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert archive.articles.collection.count_documents({}) == 20
    assert sorted(archive.articles.collection.distinct("url")) == sorted(i["url"] for i in batch)
    assert sum(r.new for r in results) + sum(r.unchanged for r in results) == 60
    assert [r.failed for r in results] == [[], [], []]
    for store in stores:
        store.close()


def test_indexes_cover_url_section_date_and_text(archive):
    keys = [list(spec["key"]) for spec in archive.articles.collection.index_information().values()]
    key_fields = [[field for field, _ in key] for key in keys]
    assert ["url"] in key_fields
    assert ["section_slug", "published"] in key_fields
    assert ["published"] in key_fields
    indexes = archive.articles.collection.index_information().values()
    url_index = next(v for v in indexes if [f for f, _ in v["key"]] == ["url"])
    assert url_index["unique"] is True


def test_ensure_indexes_is_idempotent(archive):
    archive.ensure_indexes()
    archive.ensure_indexes()
    assert archive.articles.upsert_batch([article()]).new == 1


def test_stored_document_reads_back_as_the_item_it_came_from(archive):
    item = article()
    archive.articles.upsert_batch([item])
    back = to_item(archive.articles.collection.find_one({}))
    for name in ("first_seen", "last_seen", "last_changed"):
        back.pop(name)
    assert back == item


def test_fetch_failures_are_read_oldest_first_without_other_rejects(archive):
    at = datetime(2026, 1, 1, tzinfo=UTC)
    archive.rejects.add(
        [
            {"url": "u", "kind": "fetch_failed", "lasting": True, "time": at.replace(hour=2), "run_id": "r3"},
            {"url": "u", "kind": "fetch_failed", "lasting": False, "time": at, "run_id": "r1"},
            {"url": "u", "kind": "missing_body", "time": at.replace(hour=1), "run_id": "r2"},
        ]
    )
    assert archive.rejects.fetch_failures() == [{"url": "u", "lasting": False}, {"url": "u", "lasting": True}]


def test_unreachable_server_raises_a_clear_error_with_the_password_masked():
    uri = f"mongodb://crawler:s3cret@127.0.0.1:{free_port()}/"
    with pytest.raises(ArchiveUnavailable) as raised:
        connect_archive(ArchiveConfig(uri, "spacewar", "articles", Path("unused"), 27017, connect_timeout=1.0))
    message = str(raised.value)
    assert message.startswith("Cannot reach MongoDB at mongodb://crawler:***@127.0.0.1:")
    assert "MONGO_URI" in message
    assert "s3cret" not in message


@pytest.mark.parametrize(
    ("uri", "masked"),
    [
        ("mongodb://user:pa:ss@db.example:27017/x", "mongodb://user:***@db.example:27017/x"),
        ("mongodb+srv://user:p%40ss@cluster0.example/", "mongodb+srv://user:***@cluster0.example/"),
        ("mongodb://127.0.0.1:27017/", "mongodb://127.0.0.1:27017/"),
    ],
)
def test_mask_uri_hides_the_password(uri, masked):
    assert mask_uri(uri) == masked


OLD = "https://www.spacedaily.com/reports/Solar_records_refine_forecasts_999.html"
NEW = "https://spacedaily.com/century-old-solar-records-refine-future-cycle-forecasts-999/"


def moved(url, **extra):
    return article(url, title="Century-old solar records refine future cycle forecasts", site=urlsplit(url).hostname,
                   **extra)  # fmt: skip


def test_an_old_url_seen_redirecting_becomes_an_alias_and_its_document_is_merged(archive):
    archive.articles.upsert_batch([moved(OLD, body="The classic text.")])
    first_seen = archive.articles.article(OLD)["first_seen"]
    result = archive.articles.upsert_batch([moved(NEW, body="The WordPress text.", aliases=[OLD])])
    assert (result.new, result.changed, result.refreshed) == (0, 1, 0)
    docs = list(archive.articles.collection.find())
    assert [(d["_id"], d["aliases"], d["first_seen"]) for d in docs] == [(NEW, [OLD], first_seen)]
    assert [r["body"] for r in archive.articles.revisions.find({"url": NEW})] == ["The classic text."]
    assert archive.articles.article(OLD)["_id"] == NEW
    assert archive.articles.resolve(OLD) == NEW


def test_a_redirect_seen_before_or_after_the_new_url_is_stored_ends_in_its_aliases(archive):
    assert archive.articles.add_aliases({OLD: NEW}) == 1  # the new URL is not archived yet: the record waits
    archive.articles.upsert_batch([moved(NEW)])
    assert archive.articles.article(NEW)["aliases"] == [OLD]
    other = "https://spacedaily.com/go/7"
    archive.articles.add_aliases({other: NEW})
    assert archive.articles.article(NEW)["aliases"] == [other, OLD]
    assert archive.articles.collection.count_documents({}) == 1


def test_an_article_at_a_new_url_with_the_headline_and_day_of_a_classic_one_is_that_article(archive):
    """The site moved and nothing linked the old URL this run: the same headline on the same day of the same site."""
    archive.articles.upsert_batch([moved(OLD)])
    result = archive.articles.upsert_batch([moved(NEW)])
    assert (result.new, result.refreshed) == (0, 1)
    assert [d["_id"] for d in archive.articles.collection.find()] == [NEW]
    assert archive.articles.article(NEW)["aliases"] == [OLD]
    # Another day, or another site, is another article.
    archive.articles.upsert_batch([moved("https://www.terradaily.com/reports/Solar_records_999.html")])
    archive.articles.upsert_batch([moved("https://spacedaily.com/solar-records-again/", published="2025-05-16")])
    assert archive.articles.collection.count_documents({}) == 3


def test_the_archived_site_covers_both_hosts_and_the_aliases(archive):
    archive.articles.upsert_batch([moved(NEW, aliases=[OLD], modified="2026-02-03T11:40:00+10:00")])
    site = archive.articles.archived_site("www.spacedaily.com")
    assert (site.urls, site.documents) == ({NEW, OLD}, {NEW})
    assert site.changed_at == {NEW: datetime(2026, 2, 3, 1, 40, tzinfo=UTC)}
