"""Crawls of the mirror into MongoDB: one document per article, change tracking, no lost items."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from datetime import datetime

import pytest
from pymongo import MongoClient

from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import expected_articles
from tests.mongo_server import ON_STAND_IN, after_documents, free_port
from tests.reliability_report import row

INTERFACE_FIELDS = {
    "url", "site", "section", "section_slug", "title", "author", "dateline", "location", "agency",
    "published", "body", "images", "related", "related_links", "content_hash", "fetched_at",
}  # fmt: skip
WARC_FIELDS = {"warc_file", "warc_offset"}
QUALITY_FIELDS = {"layout", "warnings"}
NETWORK_FIELDS = {"modified", "aliases"}
TRACKING_FIELDS = {"first_seen", "last_seen", "last_changed"}
EDITED = "reports/Russia_tests_upgraded_Yars_missile_999.html"


def crawl_into(mirror, tmp_path, mongo_uri, db_name, *args, settings=None):
    return run_crawl(
        mirror.url,
        tmp_path,
        *args,
        settings={"MONGO_DATABASE": db_name, **(settings or {})},
        env={"MONGO_URI": mongo_uri},
    )


def database(mongo_uri, db_name):
    return MongoClient(mongo_uri, tz_aware=True)[db_name]


def test_crawl_stores_exactly_one_document_per_article_with_bson_dates(mirror, tmp_path, mongo_uri, db_name):
    result = crawl_into(mirror, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0, result.log[-3000:]
    docs = list(database(mongo_uri, db_name).articles.find({}))
    assert sorted(d["url"] for d in docs) == sorted(expected_articles(mirror.url))
    for doc in docs:
        assert set(doc) == INTERFACE_FIELDS | WARC_FIELDS | QUALITY_FIELDS | NETWORK_FIELDS | TRACKING_FIELDS | {"_id"}
        assert doc["_id"] == doc["url"]
        # Its other URLs, whichever of the old and the new URL the run met first.
        assert doc["aliases"] == expected_articles(mirror.url)[doc["url"]]["aliases"]
        for name in ("published", "fetched_at", *TRACKING_FIELDS):
            assert isinstance(doc[name], datetime), (doc["url"], name)
    exported = {i["url"]: i for i in result.items}
    yars = database(mongo_uri, db_name).articles.find_one({"_id": mirror.url + EDITED})
    assert yars["published"].date().isoformat() == exported[mirror.url + EDITED]["published"] == "2025-05-09"
    assert yars["body"] == exported[mirror.url + EDITED]["body"]


def test_crawl_records_its_run_and_its_rejects(mirror, tmp_path, mongo_uri, db_name):
    result = crawl_into(mirror, tmp_path, mongo_uri, db_name)
    db = database(mongo_uri, db_name)
    runs = list(db.crawl_runs.find({}))
    assert len(runs) == 1
    run = runs[0]
    assert run["spider"] == "spacewar"
    assert run["args"] == {"base_url": mirror.url, "section": None, "refresh": "0", "feeds": "1"}
    assert run["finish_reason"] == "finished"
    assert isinstance(run["started_at"], datetime)
    assert isinstance(run["finished_at"], datetime)
    assert run["finished_at"] >= run["started_at"]
    assert run["counts"] == {
        "pages": result.stats["response_received_count"],
        "articles_new": 32,
        "articles_changed": 0,
        "articles_refreshed": 0,
        "articles_unchanged": 0,
        "quality": {
            "all": {"articles": 32, "author": 84.4, "dateline": 96.9, "images": 12.5},
            "story-article": {"articles": 16, "author": 93.8, "dateline": 100.0, "images": 18.8},
            "table-story": {"articles": 12, "author": 91.7, "dateline": 100.0, "images": 8.3},
            "wire-div": {"articles": 4, "author": 25.0, "dateline": 75.0, "images": 0.0},
        },
        "layout_unknown": 0,
        "drift": [],
        "dropped": {"fetch_failed": 1},
        "errors": 1,
        "spilled": 0,
        "lost": 0,
        "warc_failed": 0,
    }
    rejects = list(db.rejects.find({}, {"_id": 0, "time": 0}))
    assert rejects == [
        {
            "url": mirror.url + "reports/Hypersonic_glide_vehicle_test_fails_over_Pacific_999.html",
            "kind": "fetch_failed",
            "reason": "fetch_failed: http_404",
            "status": 404,
            "lasting": True,
            "run_id": run["_id"],
        }
    ]


def test_identical_recrawl_with_refresh_changes_nothing_but_last_seen(mirror, tmp_path, mongo_uri, db_name):
    crawl_into(mirror, tmp_path, mongo_uri, db_name)
    db = database(mongo_uri, db_name)
    before = {d["_id"]: d for d in db.articles.find({})}
    result = crawl_into(mirror, tmp_path, mongo_uri, db_name, "-a", "refresh=1")
    assert result.returncode == 0
    after = {d["_id"]: d for d in db.articles.find({})}
    assert set(after) == set(before)
    for url, doc in after.items():
        assert {k: v for k, v in doc.items() if k != "last_seen"} == {
            k: v for k, v in before[url].items() if k != "last_seen"
        }
        assert doc["last_seen"] > before[url]["last_seen"]
    assert db.revisions.count_documents({}) == 0
    assert result.stats["spacewar/articles/unchanged"] == 32


def test_edited_article_gives_one_revision_and_one_changed_document(mirror_copy, tmp_path, mongo_uri, db_name):
    crawl_into(mirror_copy, tmp_path, mongo_uri, db_name)
    db = database(mongo_uri, db_name)
    before = {d["_id"]: d for d in db.articles.find({})}
    page = mirror_copy.root / EDITED
    page.write_text(page.read_text().replace("the defence ministry said.", "the defence ministry said on Friday."))
    result = crawl_into(mirror_copy, tmp_path, mongo_uri, db_name, "-a", "refresh=1")
    after = {d["_id"]: d for d in db.articles.find({})}
    changed = [url for url in after if after[url]["content_hash"] != before[url]["content_hash"]]
    assert changed == [mirror_copy.url + EDITED]
    assert after[changed[0]]["body"].startswith(
        "Russia's Strategic Missile Forces have test-fired an upgraded Yars intercontinental ballistic missile "
        "from the Plesetsk cosmodrome, the defence ministry said on Friday."
    )
    revisions = list(db.revisions.find({}))
    assert [(r["url"], r["body"]) for r in revisions] == [(changed[0], before[changed[0]]["body"])]
    assert (result.stats["spacewar/articles/changed"], result.stats["spacewar/articles/unchanged"]) == (1, 31)


def test_unreachable_server_stops_the_crawl_before_any_fetch(mirror_copy, tmp_path, reliability):
    uri = f"mongodb://archiver:hunter2@127.0.0.1:{free_port()}/"
    result = run_crawl(mirror_copy.url, tmp_path, env={"MONGO_URI": uri})
    assert result.returncode == 1
    assert mirror_copy.requests == []
    lines = [line for line in result.log.splitlines() if "Cannot reach MongoDB" in line]
    assert len(lines) == 1
    assert "mongodb://archiver:***@127.0.0.1:" in lines[0]
    assert "hunter2" not in result.log
    opened, failed = (
        datetime.strptime(re.search(rf"^(\S+ \S+) .*{marker}", result.log, re.M).group(1), "%Y-%m-%d %H:%M:%S")
        for marker in ("Spider opened", "Cannot reach MongoDB")
    )
    assert (failed - opened).total_seconds() <= 5
    reliability.append(
        row("storage", "stand-in unavailable at start", "stop before any fetch, clear message, exit 1",
            f"stopped {(failed - opened).total_seconds():.0f} s after opening, 0 requests", 0, 0, 0)
    )  # fmt: skip


@pytest.mark.skipif(not ON_STAND_IN, reason="kills and restarts its own nx-27017 server")
def test_server_killed_mid_crawl_loses_nothing_after_replay(mirror_copy, tmp_path, reliability, own_stand_in):
    server = own_stand_in()
    client = MongoClient(server.uri)
    killed = threading.Event()

    def kill():
        server.kill()
        killed.set()

    killer = after_documents(client.spacewar.articles, 5, kill)
    result = run_crawl(
        mirror_copy.url,
        tmp_path,
        settings={
            "DOWNLOAD_DELAY": "0.1",
            "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
            "MONGO_BATCH_SIZE": "5",
            "MONGO_FLUSH_INTERVAL": "0.5",
            "MONGO_RETRY_SECONDS": "2",
            "MONGO_CONNECT_TIMEOUT": "0.5",
            "MONGO_SPILL_DIR": str(tmp_path / "spill"),
        },
        env={"MONGO_URI": server.uri},
    )
    killer.join()
    assert killed.is_set()
    assert result.returncode == 1, "a run that spilled items must fail"
    spills = list((tmp_path / "spill").glob("spill-*.jsonl"))
    assert len(spills) == 1
    assert re.search(r"items were not stored; run: spacewar replay \S+spill-", result.log)
    server.start()
    stored_before_replay = client.spacewar.articles.count_documents({})
    spilled = len(spills[0].read_text().splitlines())
    assert stored_before_replay + spilled >= 32
    replay = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "replay", str(spills[0]), "--mongo-uri", server.uri],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert replay.returncode == 0, replay.stderr
    urls = client.spacewar.articles.distinct("url")
    assert sorted(urls) == sorted(expected_articles(mirror_copy.url))
    assert client.spacewar.articles.count_documents({}) == 32
    again = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "replay", str(spills[0]), "--mongo-uri", server.uri],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.stdout.strip().endswith(f"0 new, 0 changed, {spilled} unchanged, 0 failed")
    reliability.append(
        row("storage", "stand-in killed (SIGKILL) mid-crawl, back only after the run",
            "retried, spilled, exit 1; replay stores the rest, idempotently",
            f"{stored_before_replay} stored by the run, {spilled} spilled, replayed twice", 32, stored_before_replay,
            spilled)
    )  # fmt: skip


@pytest.mark.skipif(not ON_STAND_IN, reason="starts the embedded stand-in itself")
def test_without_mongo_uri_the_crawl_starts_and_stops_the_embedded_stand_in(mirror, tmp_path, own_stand_in):
    port = free_port()
    data = tmp_path / "data" / "mongo"
    result = run_crawl(
        mirror.url, tmp_path, settings={"MONGO_EMBEDDED_PORT": str(port), "MONGO_EMBEDDED_DIR": str(data)}
    )
    assert result.returncode == 0, result.log[-3000:]
    assert f"MONGO_URI is unset: started the embedded MongoDB stand-in (nx-27017) at mongodb://127.0.0.1:{port}/" in (
        result.log
    )
    assert "Stopped the embedded MongoDB stand-in" in result.log
    # The archive outlives the run: the same data directory, served again, holds every article.
    server = own_stand_in("again", port=port, data_dir=data / "db")
    assert MongoClient(server.uri).spacewar.articles.count_documents({}) == 32
