"""Hostile sites and double faults: nothing is fetched off the site, nothing is lost unseen, work stays bounded.

Every case runs the real crawl against the suite's own loopback servers; each server logs
what it was asked for, and that log, not the crawler's word, shows what left the site.
"""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pymongo import MongoClient

from spacewar_crawler.archive.warc import OriginalNotFound, Originals, read_response
from spacewar_crawler.reading.dateline import parse_feed_date
from spacewar_crawler.reading.feeds import feed_entries
from spacewar_crawler.reading.pages import ArticlePage, ListingPage
from tests.crawl_runner import REPO, crawl_command, crawl_env, run_crawl
from tests.mongo_server import ON_STAND_IN, after_documents
from tests.reliability_report import row
from tests.test_incremental import TEMPLATE, add_article, link_from_listing

SECRET = "s3cr3t-token-from-the-internal-service"


class RecordingServer:
    """A loopback HTTP server that answers everything with a secret and logs every request it gets."""

    def __init__(self, host: str) -> None:
        self.requests: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.requests.append(self.path)
                body = ('{"secret": "' + SECRET + '"}').encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._httpd = ThreadingHTTPServer((host, 0), Handler)
        threading.Thread(target=self._httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def recording():
    servers: list[RecordingServer] = []

    def start(host: str = "127.0.0.1") -> RecordingServer:
        servers.append(RecordingServer(host))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def crawl(mirror, tmp_path, mongo_uri, db_name, *args, **settings):
    return run_crawl(
        mirror.url, tmp_path, *args, settings={"MONGO_DATABASE": db_name, **settings}, env={"MONGO_URI": mongo_uri}
    )


def rejects_of(mongo_uri, db_name, kind):
    return {r["url"]: r for r in MongoClient(mongo_uri)[db_name].rejects.find({"kind": kind})}


def test_redirects_off_the_site_are_refused_and_recorded(mirror_copy, tmp_path, mongo_uri, db_name, recording,
                                                          reliability):  # fmt: skip
    other_address, other_port = recording("127.0.0.2"), recording("127.0.0.1")
    stand_in_port = re.search(r":(\d+)/", mongo_uri).group(1) if ON_STAND_IN else "27017"
    targets = {
        "/reports/Goes_to_another_address_999.html": other_address.url + "/internal/credentials",
        "/reports/Goes_to_another_port_999.html": other_port.url + "/admin",
        "/reports/Goes_to_the_database_999.html": f"http://127.0.0.1:{stand_in_port}/",
        "/reports/Goes_to_metadata_999.html": "http://169.254.169.254/latest/meta-data/",
        "/reports/Goes_to_a_file_999.html": "file:///etc/passwd",
    }
    mirror_copy.redirects.update(targets)
    link_from_listing(mirror_copy.root, "Military_Space.html", [(p, p.split("/")[-1]) for p in targets])
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0, result.log[-3000:]
    assert (other_address.requests, other_port.requests) == ([], [])
    refused = rejects_of(mongo_uri, db_name, "offsite_redirect")
    assert sorted(refused) == sorted(mirror_copy.url + p[1:] for p in targets if not p.endswith("file_999.html"))
    assert all(r["lasting"] for r in refused.values())
    assert SECRET not in result.log
    for warc in (tmp_path / "warc").glob("*.warc.gz"):
        with gzip.open(warc) as records:
            assert SECRET.encode() not in records.read()
    stored = MongoClient(mongo_uri)[db_name].articles
    assert stored.count_documents({}) == 32
    assert stored.count_documents({"site": {"$ne": "127.0.0.1"}}) == 0
    reliability.append(
        row("hostile sites", "article redirects to another loopback address, port, the database, cloud metadata",
            "refused before sending, recorded as offsite_redirect", f"{len(refused)} refused, 0 requests elsewhere",
            32, stored.count_documents({}), 0)
    )  # fmt: skip


def test_robots_disallow_all_stops_every_request_also_those_that_waited(mirror_copy, tmp_path, mongo_uri, db_name,
                                                                         reliability):  # fmt: skip
    (mirror_copy.root / "robots.txt").write_text("User-agent: *\nDisallow: /\n")
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert mirror_copy.requests == ["/robots.txt"]
    assert result.stats["robotstxt/forbidden"] == 5  # the home page and the four feeds
    reliability.append(
        row("hostile sites", "robots.txt Disallow: / (five start requests waiting for it)",
            "nothing but robots.txt is fetched", f"requests: {mirror_copy.requests}", 0, 0, 0)
    )  # fmt: skip


def test_listing_trap_stops_when_older_pages_bring_nothing_new(mirror_copy, tmp_path, mongo_uri, db_name,
                                                              reliability):  # fmt: skip
    superpowers = (mirror_copy.root / "Superpowers_2.html").read_text()
    for n in range(2, 400):  # each "older" page links the next one and lists the same articles
        older = f'<p><a href="/Superpowers_{n + 1}.html">Older Superpowers News</a></p></body>'
        (mirror_copy.root / f"Superpowers_{n}.html").write_text(superpowers.replace("</body>", older))
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    trap_pages = [p for p in mirror_copy.requests if re.fullmatch(r"/Superpowers_\d+\.html", p)]
    assert trap_pages == ["/Superpowers_2.html", "/Superpowers_3.html"]
    assert result.stats["spacewar/listings/nothing_new"] == 1
    reliability.append(
        row("hostile sites", "endless chain of older listing pages listing the same articles",
            "stops at the first older page with nothing new", f"{len(trap_pages)} older pages fetched", 32,
            MongoClient(mongo_uri)[db_name].articles.count_documents({}), 0)
    )  # fmt: skip


def test_thousands_of_older_page_links_are_capped_per_section(mirror_copy, tmp_path, mongo_uri, db_name):
    links = "".join(f'<a href="/Superpowers_{n}.html">Older Superpowers News</a>' for n in range(3, 20_003))
    html = (mirror_copy.root / "Superpowers.html").read_text().replace("</body>", links + "</body>")
    (mirror_copy.root / "Superpowers.html").write_text(html)
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name, SPACEWAR_MAX_OLDER_PAGES="25")
    assert result.returncode == 0
    older = [p for p in mirror_copy.requests if re.fullmatch(r"/Superpowers_\d+\.html", p)]
    assert len(older) == 25
    assert result.stats["spacewar/listings/depth_limit"] == 1


def test_older_page_links_are_read_in_one_pass_and_once_each():
    links = "".join(f'<a href="/Superpowers_{n % 50_000}.html">Older news</a>' for n in range(100_000))
    page = ListingPage(
        f"<html><body><h1>SUPERPOWERS</h1>{links}</body></html>", "http://127.0.0.1:8000/Superpowers.html"
    )
    pages = page.older_pages
    assert (len(pages), pages[0], pages[-1]) == (50_000, "http://127.0.0.1:8000/Superpowers_0.html",
                                                  "http://127.0.0.1:8000/Superpowers_49999.html")  # fmt: skip


def test_gzip_bomb_is_refused_within_bounded_memory(mirror_copy, tmp_path, mongo_uri, db_name, reliability):
    bomb = "/reports/Decompresses_to_a_gigabyte_999.html"
    with gzip.open(mirror_copy.root / bomb[1:], "wb", compresslevel=9) as made:  # a megabyte at a time: this
        made.write(b"<html><body>")  # process stays small, and the crawl it forks starts small
        for _ in range(400):
            made.write(bytes(1_000_000))
    mirror_copy.headers[bomb] = {"Content-Encoding": "gzip"}
    link_from_listing(mirror_copy.root, "Military_Space.html", [(bomb, "A gigabyte")])
    command = crawl_command(mirror_copy.url, {"MONGO_DATABASE": db_name, "WARC_DIR": str(tmp_path / "warc")})
    process = subprocess.Popen(command, cwd=REPO, env=crawl_env(mongo_uri), stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE)  # fmt: skip
    log = process.stderr.read().decode()
    _, status, usage = os.wait4(process.pid, 0)
    peak_mb = usage.ru_maxrss / 1024
    assert os.waitstatus_to_exitcode(status) == 0, log[-3000:]
    assert peak_mb < 300
    assert rejects_of(mongo_uri, db_name, "fetch_failed")[mirror_copy.url + bomb[1:]]["reason"] == (
        "fetch_failed: too_large"
    )
    stored = MongoClient(mongo_uri)[db_name].articles.count_documents({})
    assert stored == 32
    reliability.append(
        row("hostile sites", f"gzip bomb ({(mirror_copy.root / bomb[1:]).stat().st_size // 1024} KB -> 400 MB)",
            "refused at DOWNLOAD_MAXSIZE, counted", f"peak RSS {peak_mb:.0f} MB", 32, stored, 0)
    )  # fmt: skip


def test_twenty_megabyte_page_is_a_counted_reject(mirror_copy, tmp_path, mongo_uri, db_name, reliability):
    big = add_article(mirror_copy.root, "Twenty_megabytes_999.html", "Twenty megabytes")
    html = (mirror_copy.root / big[1:]).read_text()
    (mirror_copy.root / big[1:]).write_text(html.replace("</body>", "<p>" + "x" * 20_000_000 + "</p></body>"))
    link_from_listing(mirror_copy.root, "Military_Space.html", [(big, "Twenty megabytes")])
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    assert rejects_of(mongo_uri, db_name, "fetch_failed")[mirror_copy.url + big[1:]]["reason"] == (
        "fetch_failed: too_large"
    )
    assert len(max(result.log.splitlines(), key=len)) < 5_000
    stored = MongoClient(mongo_uri)[db_name].articles.count_documents({})
    reliability.append(
        row("hostile sites", "a 20 MB article page", "refused at DOWNLOAD_MAXSIZE, counted; log lines bounded",
            "1 reject too_large", 32, stored, 0)
    )  # fmt: skip


def test_article_with_ten_thousand_images_is_read(mirror_copy, tmp_path, mongo_uri, db_name, reliability):
    path = add_article(mirror_copy.root, "Ten_thousand_images_999.html", "Ten thousand images")
    images = "".join(f'<img src="https://www.spxdaily.com/images-lg/p{n}-lg.jpg">' for n in range(10_000))
    html = (mirror_copy.root / path[1:]).read_text()
    (mirror_copy.root / path[1:]).write_text(html.replace("<p>", "<div>" + images + "</div><p>", 1))
    link_from_listing(mirror_copy.root, "Military_Space.html", [(path, "Ten thousand images")])
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert result.returncode == 0
    doc = MongoClient(mongo_uri)[db_name].articles.find_one({"_id": mirror_copy.url + path[1:]})
    assert len(doc["images"]) == 10_000 + 1  # and the page's own
    reliability.append(
        row("hostile sites", "an article with 10,000 sibling images", "read in linear time and stored",
            f"{len(doc['images'])} images", 33, MongoClient(mongo_uri)[db_name].articles.count_documents({}), 0)
    )  # fmt: skip


def test_oversized_document_is_refused_alone_and_its_batch_is_stored(mirror_copy, tmp_path, mongo_uri, db_name,
                                                                      reliability):  # fmt: skip
    big = add_article(mirror_copy.root, "Seventeen_megabytes_999.html", "Seventeen megabytes")
    html = (mirror_copy.root / big[1:]).read_text()
    paragraphs = "".join(f"<p>Paragraph {n} of a very long article. {'word ' * 340}</p>" for n in range(10_000))
    (mirror_copy.root / big[1:]).write_text(html.replace("<p>", paragraphs + "<p>", 1))
    link_from_listing(mirror_copy.root, "Military_Space.html", [(big, "Seventeen megabytes")])
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name, DOWNLOAD_MAXSIZE=str(64 * 2**20), MONGO_BATCH_SIZE="50")
    assert result.returncode == 0, result.log[-3000:]
    assert rejects_of(mongo_uri, db_name, "too_large_to_store")[mirror_copy.url + big[1:]]["reason"].startswith(
        "too_large_to_store: "
    )
    stored = MongoClient(mongo_uri)[db_name].articles.count_documents({})
    assert stored == 32
    reliability.append(
        row("hostile sites", "an article that makes a 17 MB document, in a batch of 33",
            "refused alone (too_large_to_store), original in WARC; the other 32 stored", "1 reject", 32, stored, 0)
    )  # fmt: skip


def test_two_crawls_sharing_a_warc_directory_keep_their_own_records(mirror, tmp_path, mongo_uri, reliability):
    warc = tmp_path / "warc"
    commands = [crawl_command(mirror.url, {"MONGO_DATABASE": f"shared_{n}", "WARC_DIR": str(warc)}) for n in (1, 2)]
    env = crawl_env(mongo_uri)
    for n in (1, 2):
        MongoClient(mongo_uri).drop_database(f"shared_{n}")
    processes = [subprocess.Popen(c, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                 for c in commands]  # fmt: skip
    assert [p.wait(240) for p in processes] == [0, 0]
    wrong = 0
    documents = 0
    for n in (1, 2):
        for doc in MongoClient(mongo_uri)[f"shared_{n}"].articles.find({}):
            documents += 1
            _, body = read_response(warc, doc["warc_file"], doc["warc_offset"], doc["url"])
            wrong += (
                body != (Path(__file__).parent / "mirror" / "site" / doc["url"].removeprefix(mirror.url)).read_bytes()
            )
    assert (documents, wrong) == (64, 0)
    assert len(list(warc.glob("*.warc.gz"))) == 2
    for n in (1, 2):
        MongoClient(mongo_uri).drop_database(f"shared_{n}")
    reliability.append(
        row("double faults", "two crawls sharing WARC_DIR, started together",
            "one WARC file per process, every record where its document says", f"{documents} documents, 0 wrong",
            64, documents - wrong, 0)
    )  # fmt: skip


def test_reading_an_original_refuses_another_urls_record_and_other_directories(tmp_path):
    from spacewar_crawler.archive.warc import WarcArchive

    archive = WarcArchive(tmp_path, "t", 10**9, "test")
    name, offset = archive.write_exchange("http://a/1", [], 200, "OK", [], b"one")
    _, second = archive.write_exchange("http://a/2", [], 200, "OK", [], b"two")
    archive.close()
    originals = Originals([tmp_path])
    assert originals.read(name, second, "http://a/2") == (None, b"two")
    with pytest.raises(ValueError, match="is the record of http://a/2, not of http://a/1"):
        originals.read(name, second, "http://a/1")
    with pytest.raises(OriginalNotFound, match="not a WARC file name"):
        originals.read("../" + name, offset, "http://a/1")


def test_an_out_of_range_feed_date_is_ignored_alone():
    feed = (b'<rss version="2.0"><channel><title>t</title>'
            b"<item><title>A</title><link>http://x/reports/A_999.html</link>"
            b"<pubDate>Tue, 31 Dec 9999 23:59:59 -1200</pubDate></item>"
            b"<item><title>B</title><link>http://x/reports/B_999.html</link>"
            b"<pubDate>Thu, 17 OCT 2024 22:40:13 AEST</pubDate></item></channel></rss>")  # fmt: skip
    entries = feed_entries(feed, "http://x/spacewar.xml").entries
    assert [(e.url, e.published.isoformat() if e.published else None) for e in entries] == [
        ("http://x/reports/A_999.html", None),
        ("http://x/reports/B_999.html", "2024-10-17"),
    ]
    assert parse_feed_date("Tue, 31 Dec 9999 23:59:59 -1200") is None


def test_a_canonical_link_to_another_article_is_a_claim_not_an_override(mirror):
    html = (
        (Path(__file__).parent / "mirror" / "site" / TEMPLATE)
        .read_text()
        .replace("</head>", '<link rel="canonical" href="/reports/Russia_tests_upgraded_Yars_missile_999.html"></head>')
    )
    item = ArticlePage(html, "http://127.0.0.1:8000/" + TEMPLATE).to_item()
    assert item.url == "http://127.0.0.1:8000/" + TEMPLATE
    assert "canonical_elsewhere" in item.warnings


def test_replay_skips_bad_lines_with_their_numbers_and_stores_the_good_ones(tmp_path, mongo_uri, db_name):
    good = [{"url": f"http://x/reports/R{n}_999.html", "title": f"R{n}", "body": "Text.", "published": "2025-05-01",
             "fetched_at": "2026-11-29T09:00:00Z"} for n in range(10)]  # fmt: skip
    bad = [
        '{"url": ["http://x/reports/list_999.html"], "title": "t"}',
        '{"url": "http://x/reports/date_999.html", "published": "not a date"}',
        '{"url": "http://x/reports/offset_999.html", "warc_offset": ' + str(10**30) + "}",
    ]
    lines = [json.dumps(g) for g in good[:5]] + bad + [json.dumps(g) for g in good[5:]]
    spill = tmp_path / "spill.jsonl"
    spill.write_text("\n".join(lines) + "\n")
    done = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "replay", str(spill), "--mongo-uri", mongo_uri, "--db", db_name],
        cwd=REPO, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert [line.split(": ", 1)[0].rsplit(":", 1)[1] for line in done.stderr.splitlines()] == ["6", "7", "8"]
    assert done.stdout.strip() == f"replayed {spill}: 10 new, 0 changed, 0 unchanged, 0 failed"
    assert MongoClient(mongo_uri)[db_name].articles.count_documents({}) == 10


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["query", "--limit", "99999999999999999999"], "not a whole number from 0 to 2147483647"),
        (["stats", "--runs", "99999999999999999999"], "not a whole number from 0 to 2147483647"),
        (["query", "--db", "bad/db"], "is no MongoDB database name"),
    ],
)
def test_bad_command_line_values_are_one_line_errors(args, message, mongo_uri):
    done = subprocess.run([sys.executable, "-m", "spacewar_crawler", *args, "--mongo-uri", mongo_uri],
                          cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
    assert done.returncode in (1, 2)
    assert "Traceback" not in done.stderr
    assert message in done.stderr


def test_query_until_the_last_day_and_show_of_a_broken_url_answer_plainly(archive, mongo_uri, db_name):
    until = subprocess.run(
        [
            sys.executable,
            "-m",
            "spacewar_crawler",
            "query",
            "--until",
            "9999-12-31",
            "--mongo-uri",
            mongo_uri,
            "--db",
            db_name,
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    show = subprocess.run([sys.executable, "-m", "spacewar_crawler", "show", "http://[::1", "--mongo-uri", mongo_uri,
                           "--db", db_name], cwd=REPO, capture_output=True, text=True)  # fmt: skip
    assert (until.returncode, until.stderr) == (0, "")
    assert (show.returncode, show.stderr.strip()) == (1, "show: not archived: http://[::1")


def test_a_mongo_uri_with_unescaped_characters_is_one_line_that_masks_the_password(tmp_path):
    uri = "mongodb://us@er:p@ss/w0rd@127.0.0.1:1/"
    done = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "query", "--mongo-uri", uri],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    assert "p@ss/w0rd" not in done.stderr
    assert "percent-escape" in done.stderr


def test_base_url_that_is_not_http_is_a_usage_error():
    done = subprocess.run(crawl_command("file:///etc/passwd", {}), cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert "base_url must be an http(s) URL" in done.stderr


def test_a_site_that_does_not_answer_fails_the_run(tmp_path, mongo_uri, db_name):
    from tests.mongo_server import free_port

    result = run_crawl(f"http://127.0.0.1:{free_port()}/", tmp_path, settings={"MONGO_DATABASE": db_name,
                       "RETRY_TIMES": "0"}, env={"MONGO_URI": mongo_uri})  # fmt: skip
    assert result.returncode == 1
    assert "Could not fetch the site's home page" in result.log
    assert "Nothing new" not in result.log


def test_credentials_in_base_url_are_dropped_never_logged_or_stored(mirror, tmp_path, mongo_uri, db_name):
    with_password = mirror.url.replace("http://", "http://editor:Pa55word@")
    result = run_crawl(with_password, tmp_path, settings={"MONGO_DATABASE": db_name}, env={"MONGO_URI": mongo_uri})
    assert result.returncode == 0, result.log[-2000:]
    assert "Pa55word" not in result.log
    run = MongoClient(mongo_uri)[db_name].crawl_runs.find_one({})
    assert run["args"]["base_url"] == mirror.url
    assert len(result.items) == 32


@pytest.mark.skipif(not ON_STAND_IN, reason="kills its own nx-27017")
def test_storage_down_with_a_full_spill_disk_counts_what_is_lost_and_fails(
    mirror_copy, tmp_path, own_stand_in, reliability, tiny_disk
):
    disk = tiny_disk("spill", "16k")
    server = own_stand_in()
    client = MongoClient(server.uri)
    killer = after_documents(client.spacewar.articles, 3, server.kill)
    result = run_crawl(mirror_copy.url, tmp_path, settings={
        "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "MONGO_BATCH_SIZE": "3",
        "MONGO_FLUSH_INTERVAL": "0.3", "MONGO_RETRY_SECONDS": "1", "MONGO_CONNECT_TIMEOUT": "0.5",
        "MONGO_SPILL_DIR": str(disk)}, env={"MONGO_URI": server.uri})  # fmt: skip
    killer.join()
    spilled = sum(1 for f in disk.glob("*.jsonl") for line in f.read_text().splitlines() if _is_json(line))
    server.start()
    stored = client.spacewar.articles.count_documents({})
    lost = result.stats["spacewar/storage/lost"]
    assert result.returncode == 1
    assert lost > 0
    assert stored + result.stats["spacewar/storage/spilled"] + lost == 32
    assert result.stats["spacewar/storage/spilled"] == spilled
    assert f"  LOST: {lost} items could neither be stored nor spilled" in result.log
    assert len(re.findall(r"ERROR: \d+ items could neither be stored nor spilled: they are LOST", result.log)) == 1
    assert "Unhandled error in Deferred" not in result.log
    reliability.append(
        row("double faults", "MongoDB killed mid-crawl and the spill directory full (16 KB tmpfs)",
            "what can be neither stored nor spilled is counted, one ERROR line, exit 1",
            f"{stored} stored, {spilled} spilled, {lost} counted as lost (none unseen)", 32 - lost, stored, spilled)
    )  # fmt: skip


def test_a_failing_warc_write_stores_the_article_flagged_and_fails_the_run(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability, tiny_disk
):
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name, WARC_DIR=str(tiny_disk("warc", "40k")))
    db = MongoClient(mongo_uri)[db_name]
    flagged = db.articles.count_documents({"warnings": "original_not_kept"})
    assert result.returncode == 1
    assert db.articles.count_documents({}) == 32
    assert flagged == result.stats["spacewar/warc/failed"] > 0
    assert db.listings.count_documents({}) == 0, "an incomplete run saves no listing validators"
    reliability.append(
        row("double faults", "WARC_DIR on a full disk (40 KB tmpfs)",
            "stored without the original, flagged original_not_kept; run incomplete, exit 1",
            f"{flagged} stored without original", 32, db.articles.count_documents({}), 0)
    )  # fmt: skip


def _is_json(line: str) -> bool:
    try:
        json.loads(line)
    except json.JSONDecodeError:
        return False  # the line the full disk cut short: not counted as spilled
    return True


def test_a_pubdate_shared_by_every_item_is_the_build_time_and_the_dateline_gives_the_date():
    feed = (
        b'<rss version="2.0"><channel><title>Space News From SpaceDaily.Com</title>'
        b"<pubDate>Thu, 04 APR 2013 20:37:27 AEST</pubDate>"
        b"<item><title><![CDATA[A]]></title><link><![CDATA[http://x/reports/A_999.html]]></link>"
        b'<description>Paris (ESA) Apr 02, 2013&lt;br/&gt;&lt;img src="x-bg.jpg"&gt; The agency said</description>'
        b"<pubDate>Thu, 04 APR 2013 20:37:27 AEST</pubDate></item>"
        b"<item><title><![CDATA[B]]></title><link><![CDATA[http://x/reports/B_999.html]]></link>"
        b"<description>San Francisco, United States (AFP) Feb 3, 2026 Elon Musk said</description>"
        b"<pubDate>Thu, 04 APR 2013 20:37:27 AEST</pubDate></item>"
        b"<item><title>C</title><link>http://x/reports/C_999.html</link><description>No dateline</description>"
        b"<pubDate>Thu, 04 APR 2013 20:37:27 AEST</pubDate></item></channel></rss>"
    )
    entries = feed_entries(feed, "http://x/spacedaily.xml").entries
    assert [(e.url.rsplit("/", 1)[1], e.published and e.published.isoformat()) for e in entries] == [
        ("A_999.html", "2013-04-02"),
        ("B_999.html", "2026-02-03"),
        ("C_999.html", None),
    ]


def test_a_feed_broken_halfway_gives_what_it_held_and_says_so():
    feed = feed_entries(
        b'<rss version="2.0"><channel><item><title>A</title><link>http://x/reports/A_999.html</link></item>'
        b"<item><title>B \xff\xfe</title><link>http://x/reports/B_999.html</link></item><item><title>cut",
        "http://x/spacewar.xml",
    )
    assert feed.recovered is True
    assert [e.url for e in feed.entries][:1] == ["http://x/reports/A_999.html"]


@pytest.mark.skipif(not ON_STAND_IN, reason="kills its own nx-27017")
def test_an_outage_has_one_deadline_for_the_whole_run(mirror_copy, tmp_path, own_stand_in, reliability):
    server = own_stand_in()
    client = MongoClient(server.uri)
    killer = after_documents(client.spacewar.articles, 2, server.kill)
    result = run_crawl(mirror_copy.url, tmp_path, settings={
        "DOWNLOAD_DELAY": "0.02", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "MONGO_BATCH_SIZE": "2",
        "MONGO_FLUSH_INTERVAL": "0.2", "MONGO_RETRY_SECONDS": "2", "MONGO_CONNECT_TIMEOUT": "0.3",
        "MONGO_SPILL_DIR": str(tmp_path / "spill")}, env={"MONGO_URI": server.uri})  # fmt: skip
    killer.join()
    server.start()
    stored = client.spacewar.articles.count_documents({})
    spilled = result.stats["spacewar/storage/spilled"]
    # Batches of 2 for 30 articles: about 15 after the outage, but only the first waits for the deadline.
    assert len(re.findall(r"Giving up on a batch of \d+ items", result.log)) == 1
    assert stored + spilled == 32
    assert result.returncode == 1
    reliability.append(
        row("double faults", "MongoDB killed mid-crawl, batches of 2 (MONGO_RETRY_SECONDS=2)",
            "one outage deadline for the run; later batches spilled at once", f"{stored} stored, {spilled} spilled",
            32, stored, spilled)
    )  # fmt: skip


@pytest.mark.skipif(not ON_STAND_IN, reason="kills its own nx-27017")
def test_a_second_ctrl_c_during_an_outage_spills_what_was_not_stored(mirror_copy, tmp_path, own_stand_in):
    server = own_stand_in()
    client = MongoClient(server.uri)
    settings = {"DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": "1", "MONGO_BATCH_SIZE": "50",
                "MONGO_FLUSH_INTERVAL": "30", "MONGO_RETRY_SECONDS": "600", "MONGO_CONNECT_TIMEOUT": "0.3",
                "MONGO_SPILL_DIR": str(tmp_path / "spill"), "WARC_DIR": str(tmp_path / "warc")}  # fmt: skip
    process = subprocess.Popen(crawl_command(mirror_copy.url, settings), cwd=REPO, env=crawl_env(server.uri),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)  # fmt: skip
    deadline = time.monotonic() + 60
    while len([p for p in mirror_copy.requests if p.startswith("/reports/")]) < 10 and time.monotonic() < deadline:
        time.sleep(0.05)
    server.kill()
    process.send_signal(signal.SIGINT)
    time.sleep(1.5)
    process.send_signal(signal.SIGINT)
    log = process.communicate(timeout=60)[1]
    server.start()
    spilled = [json.loads(line)["url"] for f in (tmp_path / "spill").glob("*.jsonl") for line in f.open()]
    assert spilled, log[-3000:]
    assert "Stopped before storing" in log
    assert client.spacewar.articles.count_documents({}) == 0


def test_a_dropped_page_is_logged_as_its_url_and_reason_never_its_content(mirror_copy, tmp_path, mongo_uri, db_name):
    path = "/reports/Secret_but_titleless_999.html"
    (mirror_copy.root / path[1:]).write_text(f"<html><body><p>{SECRET} " + "filler " * 50_000 + "</p></body></html>")
    link_from_listing(mirror_copy.root, "Military_Space.html", [(path, "Titleless")])
    result = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert f"Dropped {mirror_copy.url}{path[1:]}: missing_title" in result.log
    assert SECRET not in result.log
    assert len(max(result.log.splitlines(), key=len)) < 5_000


def test_an_embedded_stand_in_left_by_a_killed_run_is_adopted_and_stopped(tmp_path):
    from spacewar_crawler.archive.embedded import EmbeddedMongo
    from spacewar_crawler.archive.mongo import ArchiveConfig, connect_archive
    from tests.mongo_server import free_port

    port = free_port()
    left = EmbeddedMongo(tmp_path / "mongo", port)
    left.start()  # the run that started it is "killed": nothing stops it
    pid = int((tmp_path / "mongo" / "nx-27017.pid").read_text())
    config = ArchiveConfig(None, "spacewar", "articles", tmp_path / "mongo", port, 3.0)
    archive, adopted = connect_archive(config)
    archive.close()
    assert adopted is not None
    adopted.stop()
    assert left._process.wait(5) is not None  # it exited on the adopter's SIGTERM
    assert not Path(f"/proc/{pid}").exists()
