"""The raw archive: WARC files readable by archivists' tools, originals, re-extraction."""

from __future__ import annotations

import subprocess
import sys

import pytest
from pymongo import MongoClient
from warcio.archiveiterator import ArchiveIterator

from spacewar_crawler.archive.warc import read_response
from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import SITE, expected_articles

CAPTIONED = {
    "reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html",
    "reports/Space_Force_launches_new_GPS_III_satellite_999.html",
    "reports/Iowa_team_tests_radiation_hardened_chip_for_military_satellites_999.html",
}


@pytest.fixture
def crawled(mirror_copy, tmp_path, mongo_uri, db_name):
    """The mirror crawled with WARC output into `tmp_path/warc`."""

    def crawl(**settings: str):
        result = run_crawl(
            mirror_copy.url,
            tmp_path,
            settings={"MONGO_DATABASE": db_name, "WARC_DIR": str(tmp_path / "warc"), **settings},
            env={"MONGO_URI": mongo_uri},
        )
        assert result.returncode == 0, result.log[-3000:]
        return result

    return crawl


def cli(mongo_uri, db_name, tmp_path, *args):
    return subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", *args, "--mongo-uri", mongo_uri, "--db", db_name,
         "-s", f"WARC_DIR={tmp_path / 'warc'}"],
        cwd=REPO, capture_output=True, timeout=120,
    )  # fmt: skip


def test_warc_files_hold_one_valid_response_and_request_per_article(crawled, tmp_path, mirror_copy):
    crawled()
    files = sorted((tmp_path / "warc").glob("*.warc.gz"))
    assert len(files) == 1
    kinds: dict[str, list[str]] = {}
    responses = {}
    with files[0].open("rb") as f:
        for record in ArchiveIterator(f):
            headers = record.rec_headers
            assert headers.get_header("WARC-Record-ID").startswith("<urn:uuid:")
            assert headers.get_header("WARC-Date").endswith("Z")
            kinds.setdefault(record.rec_type, []).append(headers.get_header("WARC-Target-URI"))
            if record.rec_type == "response":
                assert headers.get_header("Content-Type") == "application/http; msgtype=response"
                assert headers.get_header("WARC-Payload-Digest").startswith("sha1:")
                assert record.http_headers.get_statuscode() == "200"
                responses[headers.get_header("WARC-Target-URI")] = record.content_stream().read()
            if record.rec_type == "request":
                assert record.http_headers.protocol == "GET"
                assert record.http_headers.statusline.endswith(" HTTP/1.1")
                assert headers.get_header("WARC-Concurrent-To").startswith("<urn:uuid:")
    assert len(kinds["warcinfo"]) == 1
    assert sorted(kinds["response"]) == sorted(kinds["request"]) == sorted(expected_articles(mirror_copy.url))
    for url, body in responses.items():
        assert body == (SITE / url.removeprefix(mirror_copy.url)).read_bytes()


def test_original_prints_the_html_the_server_sent_byte_for_byte(crawled, tmp_path, mongo_uri, db_name, mirror_copy):
    crawled()
    path = "reports/Pentagons_Golden_Dome_plan_draws_questions_from_allies_999.html"  # windows-1252
    shown = cli(mongo_uri, db_name, tmp_path, "original", mirror_copy.url + path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == (SITE / path).read_bytes()


def test_original_of_an_unknown_url_exits_1(crawled, tmp_path, mongo_uri, db_name, mirror_copy):
    crawled()
    shown = cli(mongo_uri, db_name, tmp_path, "original", mirror_copy.url + "reports/Nope_999.html")
    assert shown.returncode == 1
    assert shown.stderr.decode().strip() == f"original: not archived: {mirror_copy.url}reports/Nope_999.html"


def test_reextract_with_captions_kept_updates_exactly_the_captioned_articles_without_fetching(
    crawled, tmp_path, mongo_uri, db_name, mirror_copy
):
    crawled()
    db = MongoClient(mongo_uri)[db_name]
    before = {d["_id"]: d for d in db.articles.find({})}
    mirror_copy.clear_log()
    done = cli(mongo_uri, db_name, tmp_path, "reextract", "-s", "KEEP_IMAGE_CAPTIONS=1")
    assert done.returncode == 0, done.stderr
    assert done.stdout.decode().strip() == (
        "re-extracted 32 articles: 3 changed, 0 refreshed, 29 unchanged, 0 without original, 0 failed"
    )
    assert mirror_copy.requests == []
    after = {d["_id"]: d for d in db.articles.find({})}
    changed = {url.removeprefix(mirror_copy.url) for url in after if after[url]["body"] != before[url]["body"]}
    assert changed == CAPTIONED
    gps = after[mirror_copy.url + "reports/Space_Force_launches_new_GPS_III_satellite_999.html"]
    assert "A Falcon 9 rocket lifts off with the eighth GPS III satellite." in gps["body"].split("\n\n")
    revisions = {r["url"].removeprefix(mirror_copy.url) for r in db.revisions.find({})}
    assert revisions == CAPTIONED
    assert db.revisions.count_documents({}) == 3


def test_reextract_of_one_section_touches_only_that_section(crawled, tmp_path, mongo_uri, db_name):
    crawled()
    done = cli(mongo_uri, db_name, tmp_path, "reextract", "--section", "military-space", "-s", "KEEP_IMAGE_CAPTIONS=1")
    assert done.stdout.decode().strip() == (
        "re-extracted 6 articles: 2 changed, 0 refreshed, 4 unchanged, 0 without original, 0 failed"
    )


def test_warc_files_rotate_and_every_original_stays_reachable(crawled, tmp_path, mongo_uri, db_name, mirror_copy):
    crawled(WARC_MAX_BYTES="20000")
    assert len(list((tmp_path / "warc").glob("*.warc.gz"))) > 3
    docs = list(MongoClient(mongo_uri)[db_name].articles.find({}))
    assert len({d["warc_file"] for d in docs}) > 3
    for doc in docs:
        _, body = read_response(tmp_path / "warc", doc["warc_file"], doc["warc_offset"], doc["url"])
        assert body == (SITE / doc["url"].removeprefix(mirror_copy.url)).read_bytes(), doc["url"]
    last = max(docs, key=lambda d: d["warc_file"])
    shown = cli(mongo_uri, db_name, tmp_path, "original", last["url"])
    assert shown.stdout == (SITE / last["url"].removeprefix(mirror_copy.url)).read_bytes()


def test_warc_off_writes_nothing_and_stores_no_location(crawled, tmp_path, mongo_uri, db_name):
    crawled(WARC_ENABLED="0")
    assert not (tmp_path / "warc").exists()
    docs = list(MongoClient(mongo_uri)[db_name].articles.find({}))
    assert len(docs) == 32
    assert {(d["warc_file"], d["warc_offset"]) for d in docs} == {(None, None)}
