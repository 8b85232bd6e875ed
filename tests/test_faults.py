"""The fault suite: bad pages, bad networks, bad storage days, interrupted runs, hostile input.

Every test crawls a private copy of the mirror with the real engine and counts afterwards:
each expected article is in the archive or in the spill file, and none is stored twice.
Each test adds its measurements to docs/reliability.md (see tests/reliability_report.py).
"""

from __future__ import annotations

import random
import re
import signal
import subprocess
import sys
import threading
import time

import pytest
from pymongo import MongoClient

from spacewar_crawler.archive.mongo import MongoArchive
from tests.crawl_runner import REPO, crawl_command, crawl_env, run_crawl
from tests.mirror_site import expected_articles
from tests.mongo_server import ON_STAND_IN, after_documents, free_port
from tests.reliability_report import row

TEMPLATE = "reports/Space_Force_launches_new_GPS_III_satellite_999.html"
GOLDEN_DOME = "Pentagon\u2019s plan for a \u201cGolden Dome\u201d"
LISTING_ANCHOR = '<h1 class="section-title">'


def link_from(root, listing, paths):
    """Adds teaser links to `paths` on a listing page of the copy."""
    html = (root / listing).read_text()
    links = "".join(f'<div class="teaser"><h2><a href="{p}">Story {i}</a></h2></div>\n' for i, p in enumerate(paths))
    if LISTING_ANCHOR in html:
        html = html.replace(LISTING_ANCHOR, links + LISTING_ANCHOR, 1)
    else:
        html = html.replace("</h1>", "</h1>\n" + links, 1)
    (root / listing).write_text(html)


def archive_of(mongo_uri, db_name):
    return MongoClient(mongo_uri, tz_aware=True)[db_name]


def bad_pages(root) -> dict[str, bytes]:
    good = (root / TEMPLATE).read_bytes()
    body_end = good.index(b'<h3 class="related-links">')
    filler = b"".join(b"<p>Filler paragraph %d of a very long page about satellites.</p>\n" % i for i in range(80_000))
    cp1252 = (root / "reports/Pentagons_Golden_Dome_plan_draws_questions_from_allies_999.html").read_bytes()
    return {
        "/reports/Truncated_page_999.html": good[: good.index(b"The satellite was built") + 40],
        "/reports/Unclosed_tags_999.html": good.replace(b"</p>", b"").replace(b"</div>", b"").replace(b"</h1>", b""),
        "/reports/No_title_element_999.html": re.sub(
            rb"<title>.*?</title>|<meta property=\"og:title\"[^>]*>", b"", good
        ),
        "/reports/Empty_body_999.html": b"<html><head><title>Empty page</title></head><body></body></html>",
        "/reports/Binary_garbage_999.html": random.Random(7).randbytes(20_000),
        "/reports/Five_megabyte_page_999.html": good[:body_end] + filler + good[body_end:],
        "/reports/Declared_utf8_but_cp1252_999.html": cp1252.replace(b"charset=windows-1252", b"charset=utf-8"),
        "/reports/Declared_cp1252_but_utf8_999.html": cp1252.decode("cp1252")
        .encode("utf-8")
        .replace(b"charset=windows-1252", b"charset=windows-1252"),
        "/reports/Impossible_date_999.html": good.replace(
            b"Cape Canaveral FL (SPX) May 14, 2025", b"Cape Canaveral FL (SPX) Feb 30, 2025"
        ),
        "/reports/Really_a_listing_999.html": (root / "Superpowers.html").read_bytes(),
    }


def test_bad_pages_are_stored_as_parsed_or_rejected_with_a_reason(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability
):
    pages = bad_pages(mirror_copy.root)
    for path, content in pages.items():
        (mirror_copy.root / path.lstrip("/")).write_bytes(content)
    link_from(mirror_copy.root, "Military_Space.html", list(pages))
    result = run_crawl(mirror_copy.url, tmp_path, settings={"MONGO_DATABASE": db_name}, env={"MONGO_URI": mongo_uri})
    assert result.returncode == 0, result.log[-3000:]
    db = archive_of(mongo_uri, db_name)
    docs = {d["_id"].removeprefix(mirror_copy.url.rstrip("/")): d for d in db.articles.find({})}
    rejects = {r["url"].removeprefix(mirror_copy.url.rstrip("/")): r["reason"] for r in db.rejects.find({})}
    stored = {
        "/reports/Truncated_page_999.html": lambda d: (
            d["title"] == "Space Force launches new GPS III satellite"
            and d["body"].startswith("The US Space Force has launched")
            and d["body"].endswith("\n\nThe satellite was built by Lockheed Mart")
        ),
        "/reports/Unclosed_tags_999.html": lambda d: d["body"].count("\n\n") == 2,
        "/reports/No_title_element_999.html": lambda d: d["title"] == "Space Force launches new GPS III satellite",
        "/reports/Five_megabyte_page_999.html": lambda d: len(d["body"]) > 4_000_000,
        "/reports/Declared_utf8_but_cp1252_999.html": lambda d: GOLDEN_DOME in d["body"],
        "/reports/Declared_cp1252_but_utf8_999.html": lambda d: GOLDEN_DOME in d["body"],
        "/reports/Impossible_date_999.html": lambda d: (
            (d["dateline"], d["published"].date().isoformat()) == ("Cape Canaveral FL (SPX) Feb 30, 2025", "2025-05-14")
        ),
    }
    rejected = {
        "/reports/Empty_body_999.html": "missing_body",
        "/reports/Binary_garbage_999.html": "missing_title",
        "/reports/Really_a_listing_999.html": "not_an_article: the page lists articles",
    }
    for path, check in stored.items():
        assert path in docs, path
        assert check(docs[path]), path
        reliability.append(row("bad pages", path, "stored with what could be parsed", "stored, checked", 1, 1, 0))
    for path, reason in rejected.items():
        assert rejects[path] == reason
        reliability.append(row("bad pages", path, "recorded in rejects with a reason", f"rejected: {reason}", 0, 0, 0))
    assert len(docs) == 32 + len(stored)
    assert result.stats["spacewar/dropped/missing_body"] == 1
    assert result.stats["spacewar/dropped/missing_title"] == 1
    assert result.stats["spacewar/dropped/not_an_article"] == 1
    assert "spacewar/parse_errors" not in result.stats


NETWORK_FAULTS = {
    "/reports/Always_503_999.html": "status:503",
    "/reports/Flaky_500_999.html": "flaky:500",
    "/reports/Timeout_999.html": "timeout:3",
    "/reports/Reset_mid_body_999.html": "reset",
}
HOSTILE_LINKS = [
    "file:///etc/passwd",
    "javascript:alert(1)",
    "mailto:editor@spacewar.com",
    "ftp://ftp.example.org/reports/Ftp_999.html",
    "http://evil.example/reports/Evil_999.html",
    "//evil.example/reports/Evil_protocol_relative_999.html",
    "http://127.0.0.2:9/reports/Other_loopback_999.html",
]


def test_network_faults_are_retried_then_recorded_and_hostile_links_never_fetched(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability
):
    root = mirror_copy.root
    (root / "reports/Flaky_500_999.html").write_bytes((root / TEMPLATE).read_bytes().replace(b"GPS III", b"GPS IIIF"))
    mirror_copy.faults.update(NETWORK_FAULTS)
    mirror_copy.redirects.update(
        {"/reports/Loop_A_999.html": "/reports/Loop_B_999.html", "/reports/Loop_B_999.html": "/reports/Loop_A_999.html"}
    )
    link_from(root, "Military_Technology.html", [*NETWORK_FAULTS, "/reports/Loop_A_999.html"])
    link_from(root, "Nuclear_Weapons.html", HOSTILE_LINKS)
    (root / "robots.txt").write_text("User-agent: *\nDisallow: /Military_Space.html\n")
    result = run_crawl(
        mirror_copy.url,
        tmp_path,
        settings={"MONGO_DATABASE": db_name, "DOWNLOAD_TIMEOUT": "1", "RETRY_TIMES": "2"},
        env={"MONGO_URI": mongo_uri},
    )
    assert result.returncode == 0, result.log[-3000:]
    db = archive_of(mongo_uri, db_name)
    rejects = {r["url"].removeprefix(mirror_copy.url.rstrip("/")): r["reason"] for r in db.rejects.find({})}
    assert rejects["/reports/Always_503_999.html"] == "fetch_failed: http_503"
    assert mirror_copy.requests.count("/reports/Always_503_999.html") == 3
    assert rejects["/reports/Timeout_999.html"] == "fetch_failed: DownloadTimeoutError"
    assert mirror_copy.requests.count("/reports/Timeout_999.html") == 3
    assert rejects["/reports/Reset_mid_body_999.html"].startswith("fetch_failed: ")
    assert mirror_copy.requests.count("/reports/Reset_mid_body_999.html") == 3
    assert rejects["/reports/Loop_A_999.html"] == "fetch_failed: redirect_loop"
    flaky = db.articles.find_one({"_id": mirror_copy.url + "reports/Flaky_500_999.html"})
    assert flaky["title"] == "Space Force launches new GPS IIIF satellite"
    assert mirror_copy.statuses("/reports/Flaky_500_999.html") == [500, 200]
    # robots.txt: the disallowed listing is never asked for; its articles come through other links.
    assert "/Military_Space.html" not in mirror_copy.requests
    assert result.stats["robotstxt/forbidden"] >= 1
    # Only the mirror was ever asked for anything: no other host, no other scheme.
    assert result.stats["downloader/request_count"] == len(mirror_copy.requests)
    assert "evil" not in " ".join(mirror_copy.requests)
    assert not re.search(r"Unsupported URL scheme|No such file|evil\.example", result.log)
    stored_urls = set(db.articles.distinct("url"))
    only_behind_robots = {
        mirror_copy.url + "reports/ESA_and_EU_agree_secure_satellite_communications_plan_999.html",
        mirror_copy.url + "reports/Iowa_team_tests_radiation_hardened_chip_for_military_satellites_999.html",
    }
    expected = set(expected_articles(mirror_copy.url)) - only_behind_robots
    expected |= {mirror_copy.url + "reports/Flaky_500_999.html"}
    assert stored_urls == expected
    retried = "retried (2 more tries), then recorded in rejects"
    for fault, behaviour, measured, stored in (
        ("HTTP 503 on every try", retried, f"3 requests, {rejects['/reports/Always_503_999.html']}", 0),
        ("HTTP 500 once, then 200", "retried, then stored", "2 requests, stored", 1),
        ("timeout (3 s answer, 1 s limit)", retried, f"3 requests, {rejects['/reports/Timeout_999.html']}", 0),
        ("connection reset mid-body", retried, f"3 requests, {rejects['/reports/Reset_mid_body_999.html']}", 0),
        ("redirect loop A -> B -> A", "stopped at its first turn, recorded", rejects["/reports/Loop_A_999.html"], 0),
        ("robots.txt disallows a listing", "obeyed", "never requested; robotstxt/forbidden counted", 0),
        ("file:, javascript:, mailto:, ftp: and other hosts' links", "never fetched", "never requested", 0),
    ):
        reliability.append(row("network", fault, behaviour, measured, stored, stored, 0))
    reliability.append(
        row(
            "network",
            "whole faulty crawl",
            "every reachable article stored",
            "all stored",
            len(expected),
            len(stored_urls & expected),
            0,
        )
    )


def test_slow_server_makes_autothrottle_back_off_and_the_run_finishes(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability
):
    mirror_copy.latency = 0.3
    result = run_crawl(
        mirror_copy.url,
        tmp_path,
        "-a",
        "section=nuclear-weapons",
        settings={
            "MONGO_DATABASE": db_name,
            "AUTOTHROTTLE_ENABLED": "1",
            "AUTOTHROTTLE_START_DELAY": "0.05",
            "AUTOTHROTTLE_MAX_DELAY": "2",
            "AUTOTHROTTLE_DEBUG": "1",
        },
        env={"MONGO_URI": mongo_uri},
    )
    assert result.returncode == 0
    delays = [int(d) for d in re.findall(r"delay:\s*(\d+) ms", result.log)]
    assert delays, "AutoThrottle logged no delay"
    assert max(delays) >= 250, delays
    assert len(result.items) == 7
    reliability.append(
        row(
            "network",
            "slow server (+300 ms a response)",
            "AutoThrottle backs off, run finishes",
            f"delay grew to {max(delays)} ms",
            7,
            len(result.items),
            0,
        )
    )


@pytest.mark.skipif(not ON_STAND_IN, reason="stops and restarts its own nx-27017 server")
def test_storage_down_for_30_seconds_mid_crawl_loses_nothing(mirror_copy, tmp_path, reliability, own_stand_in):
    server = own_stand_in()
    client = MongoClient(server.uri)
    restarted = threading.Event()

    def outage():
        server.stop()
        time.sleep(30)
        server.start()
        restarted.set()

    thread = after_documents(client.spacewar.articles, 4, outage)
    result = run_crawl(
        mirror_copy.url,
        tmp_path,
        settings={
            "MONGO_BATCH_SIZE": "4",
            "MONGO_FLUSH_INTERVAL": "0.3",
            "MONGO_RETRY_SECONDS": "90",
            "MONGO_SPILL_DIR": str(tmp_path / "spill"),
        },
        env={"MONGO_URI": server.uri},
    )
    thread.join()
    assert restarted.is_set()
    assert result.returncode == 0, result.log[-3000:]
    assert result.stats["spacewar/storage/retries"] >= 1
    urls = client.spacewar.articles.distinct("url")
    assert sorted(urls) == sorted(expected_articles(mirror_copy.url))
    assert client.spacewar.articles.count_documents({}) == 32
    assert not (tmp_path / "spill").exists()
    reliability.append(
        row("storage", "stand-in stopped for 30 s mid-crawl, then restarted", "writes retried with backoff",
            f"{result.stats['spacewar/storage/retries']} retries, exit 0", 32, len(urls), 0)
    )  # fmt: skip


@pytest.mark.skipif(not ON_STAND_IN, reason="puts its own nx-27017 on a tiny tmpfs")
def test_full_disk_spills_and_replay_restores_everything(mirror_copy, tmp_path, reliability, own_stand_in):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        server = own_stand_in(data_dir=disk / "data")
        client = MongoClient(server.uri)
        # The archive's collections and indexes exist; then the disk fills up, 200 KB short of its end.
        archive = MongoArchive(server.uri, "spacewar", "articles", connect_timeout=5.0)
        archive.ensure_indexes()
        stores = (archive.runs.runs, archive.rejects.rejects, archive.listings.listings, archive.articles.revisions)
        for collection in stores:
            collection.insert_one({"_id": "warm-up"})
        archive.close()
        free = int(
            subprocess.run(["df", "--output=avail", "-B1", str(disk)], capture_output=True, text=True).stdout.split()[
                -1
            ]
        )
        (disk / "filler").write_bytes(b"\0" * max(free - 200_000, 0))
        result = run_crawl(
            mirror_copy.url,
            tmp_path,
            settings={
                "MONGO_BATCH_SIZE": "4",
                "MONGO_RETRY_SECONDS": "2",
                "MONGO_SPILL_DIR": str(tmp_path / "spill"),
            },
            env={"MONGO_URI": server.uri},
        )
        assert result.returncode == 1, "a run that could not store everything must fail"
        spills = list((tmp_path / "spill").glob("*.jsonl"))
        spilled = sum(len(f.read_text().splitlines()) for f in spills)
        assert spilled > 0
        # The operator frees space and restarts the server (nx-27017 keeps failing until restarted).
        (disk / "filler").unlink()
        server.stop()
        server.start()
        stored_before = client.spacewar.articles.count_documents({})
        for spill in spills:
            replay = subprocess.run(
                [sys.executable, "-m", "spacewar_crawler", "replay", str(spill), "--mongo-uri", server.uri],
                cwd=REPO, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert replay.returncode == 0, replay.stderr
        urls = client.spacewar.articles.distinct("url")
        assert sorted(urls) == sorted(expected_articles(mirror_copy.url))
        assert client.spacewar.articles.count_documents({}) == 32
        measured = f"{stored_before} stored by the run, {spilled} spilled, replayed"
        behaviour = "retried, then spilled; replay stores the rest"
        reliability.append(
            row(
                "storage",
                "disk full under the server (16 MB tmpfs, 200 KB left)",
                behaviour,
                measured,
                32,
                stored_before,
                spilled,
            )
        )
        server.stop()
    finally:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)


def kill_twice_with_sigint(process):
    process.send_signal(signal.SIGINT)
    time.sleep(0.2)
    process.send_signal(signal.SIGINT)


@pytest.mark.parametrize(
    ("name", "stop"),
    [
        ("SIGINT twice", kill_twice_with_sigint),
        ("SIGTERM", lambda p: p.send_signal(signal.SIGTERM)),
        ("SIGKILL", lambda p: p.send_signal(signal.SIGKILL)),
    ],
)
def test_interrupted_jobdir_run_resumes_without_refetching_stored_articles_or_duplicates(
    mirror_copy, tmp_path, mongo_uri, db_name, reliability, name, stop
):
    settings = {
        "MONGO_DATABASE": db_name,
        "DOWNLOAD_DELAY": "0.15",
        "CONCURRENT_REQUESTS_PER_DOMAIN": "1",
        "MONGO_BATCH_SIZE": "2",
        "MONGO_FLUSH_INTERVAL": "0.2",
        "JOBDIR": str(tmp_path / "job"),
        "WARC_DIR": str(tmp_path / "warc"),
    }
    command = crawl_command(mirror_copy.url, settings)
    env = crawl_env(mongo_uri)
    articles = archive_of(mongo_uri, db_name).articles
    first = subprocess.Popen(command, cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while articles.count_documents({}) < 8 and time.monotonic() < deadline:
        time.sleep(0.05)
    stop(first)
    first.wait(60)
    stored_before = set(articles.distinct("url"))
    assert 8 <= len(stored_before) < 32
    mirror_copy.clear_log()
    second = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)
    assert second.returncode == 0, second.stderr[-3000:]
    # A hard stop leaves Scrapy's request queue inconsistent; the resumed run sets it aside.
    assert ("did not close cleanly" in second.stderr) == (name != "SIGTERM")
    after = [p for p in mirror_copy.requests if p.startswith(("/reports/", "/afp/"))]
    assert len(after) == len(set(after)), "an article was requested twice after the restart"
    assert not {mirror_copy.url + p[1:] for p in after} & stored_before
    expected = expected_articles(mirror_copy.url)
    docs = {d["url"]: d for d in articles.find({})}
    assert sorted(docs) == sorted(expected)
    assert articles.count_documents({}) == 32
    reliability.append(
        row("interrupted runs", f"{name} mid-crawl with JOBDIR, then the same command again",
            "resume: nothing stored is fetched again, nothing twice",
            f"{len(stored_before)} stored before, {len(after)} articles fetched after, none twice", 32, len(docs), 0)
    )  # fmt: skip


def test_credentials_in_mongo_uri_never_reach_logs_stats_or_errors(mirror_copy, tmp_path, mongo_uri, reliability):
    # nx-27017 cannot authenticate, so the credentials fail the handshake: the error path must mask them.
    port = re.search(r":(\d+)/", mongo_uri).group(1) if ON_STAND_IN else str(free_port())
    secret_uri = f"mongodb://archiver:Tr0ub4dor&3@127.0.0.1:{port}/?authSource=admin"
    result = run_crawl(mirror_copy.url, tmp_path, env={"MONGO_URI": secret_uri})
    assert "Tr0ub4dor" not in result.log
    assert result.returncode == 1
    assert "mongodb://archiver:***@127.0.0.1:" in result.log
    query = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "stats", "--mongo-uri", secret_uri],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert "Tr0ub4dor" not in query.stdout + query.stderr
    assert query.returncode == 1
    reliability.append(
        row("security", "password in MONGO_URI (crawl and query)", "masked in every line and error", "masked", 0, 0, 0)
    )
