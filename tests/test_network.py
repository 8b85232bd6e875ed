"""The network as it is: every sister site's articles kept in `related`, `--site` over the archive, and a site that
changed its pages under the crawler is a failed run, not a quiet one."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pymongo import MongoClient

from spacewar_crawler.reading.pages import ArticlePage
from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import SITE, MirrorServer
from tests.test_incremental import TEMPLATE


def test_related_content_keeps_articles_of_every_network_site():
    sisters = ["www.space-travel.com", "www.nuclearpowerdaily.com", "www.skynightly.com", "www.biofueldaily.com"]
    links = "".join(
        f'<div class="rc-label">SPACE</div><h3><a href="https://{host}/reports/Story_on_{host[4:9]}_999.html">'
        f"Story on {host}</a></h3>"
        for host in [*sisters, "www.rocketdaily.com"]
    )
    html = (SITE / TEMPLATE).read_text()
    html = re.sub(r'(<section class="related-content"><h2>RELATED CONTENT</h2>)', r"\1" + links, html)
    related = ArticlePage(html, "http://127.0.0.1:8000/" + TEMPLATE).to_item().related
    kept = [r["url"].split("/")[2] for r in related if "Story_on" in r["url"]]
    assert kept == sisters


def crawl(mirror, tmp_path, mongo_uri, db_name, *args):
    return run_crawl(mirror.url, tmp_path, *args, settings={"MONGO_DATABASE": db_name}, env={"MONGO_URI": mongo_uri})


def test_a_full_run_that_finds_no_article_where_the_archive_has_many_fails_and_says_so(
    mirror_copy, tmp_path, mongo_uri, db_name
):
    assert crawl(mirror_copy, tmp_path, mongo_uri, db_name).returncode == 0
    # The site moves to other software: its pages no longer link /reports/ or /afp/ URLs.
    for page in [*mirror_copy.root.glob("*.html"), *mirror_copy.root.glob("*.xml"), *mirror_copy.root.glob("news/*")]:
        text = page.read_text(encoding="utf-8", errors="surrogateescape")
        page.write_text(re.sub(r"/(reports|afp)/", "/moved/", text), encoding="utf-8", errors="surrogateescape")
    second = crawl(mirror_copy, tmp_path, mongo_uri, db_name)
    assert second.returncode == 1
    assert re.search(r"ERROR: Found no article on \S+, whose archive holds 32 of its articles", second.log)
    assert "Nothing new" not in second.log.split("Found no article", 1)[0]


def test_query_and_stats_take_a_site(mirror, tmp_path, mongo_uri, db_name):
    assert crawl(mirror, tmp_path, mongo_uri, db_name).returncode == 0
    MongoClient(mongo_uri)[db_name].articles.insert_one(
        {"_id": "https://www.terradaily.com/reports/T_999.html", "url": "https://www.terradaily.com/reports/T_999.html",
         "site": "www.terradaily.com", "title": "T", "body": "B", "section_slug": "earth"}
    )  # fmt: skip

    def cli(*args):
        done = subprocess.run([sys.executable, "-m", "spacewar_crawler", *args, "--mongo-uri", mongo_uri,
                               "--db", db_name], cwd=REPO, capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
        return done.stdout

    rows = cli("query", "--site", "terradaily.com", "--format", "csv").splitlines()[1:]
    assert [row.split(",")[0] for row in rows] == ["https://www.terradaily.com/reports/T_999.html"]
    assert cli("stats", "--site", "127.0.0.1").startswith("Articles: 32\n")
    assert cli("stats", "--site", "www.terradaily.com").startswith("Articles: 1\n")
    assert len(cli("export", "--site", "127.0.0.1").splitlines()) == 32


SISTERS = Path(__file__).parent / "sisters"
FETCH_FIELDS = ("fetched_at", "content_hash", "warc_file", "warc_offset")


def expected_items(directory: Path, sites: dict[str, str]) -> dict[str, dict]:
    """Hand-written items whose URLs name the real hosts, with each host pointed at its mirror."""
    items = {}
    for file in sorted(directory.glob("*.json")):
        text = file.read_text(encoding="utf-8")
        for real, mirror in sites.items():
            text = text.replace(real, mirror)
        item = json.loads(text)
        item["site"] = urlsplit(item["url"]).hostname
        items[item["url"]] = item
    return items


@pytest.fixture
def sister_sites():
    """Two classic sites of the network linked through RELATED CONTENT: the mirror (as SpaceWar, on 127.0.0.1) and
    a TerraDaily (on localhost), each page's links to the other pointed at the other's mirror."""
    spacewar = MirrorServer().start()
    terradaily = MirrorServer(SISTERS / "terradaily", {}, site_url="http://www.terradaily.com/", host="localhost")
    terradaily.start()
    spacewar.rewrites = {b"https://www.terradaily.com/": terradaily.url.encode()}
    terradaily.rewrites = {b"http://www.spacewar.com/": spacewar.url.encode()}
    yield spacewar, terradaily
    spacewar.stop()
    terradaily.stop()


def test_two_classic_sister_sites_are_crawled_each_on_its_own_and_link_each_other(
    sister_sites, tmp_path, mongo_uri, db_name
):
    spacewar, terradaily = sister_sites
    network = {"MONGO_DATABASE": db_name, "SPACEWAR_EXTRA_NETWORK_HOSTS": "localhost,127.0.0.1"}
    sister = run_crawl(terradaily.url, tmp_path / "t", settings=network, env={"MONGO_URI": mongo_uri})
    assert sister.returncode == 0, sister.log[-3000:]
    expected = expected_items(SISTERS / "expected", {"http://www.terradaily.com/": terradaily.url,
                                                      "http://www.spacewar.com/": spacewar.url})  # fmt: skip
    items = {url: {k: v for k, v in item.items() if k not in FETCH_FIELDS} for url, item in sister.by_url().items()}
    assert items == expected
    assert re.search(r"INFO: \S+ serves the classic generation: 3 section pages, 2 classic article links", sister.log)
    assert spacewar.requests == []  # the SpaceWar article in RELATED CONTENT is kept, not fetched
    terradaily.clear_log()
    home = run_crawl(spacewar.url, tmp_path / "s", settings=network, env={"MONGO_URI": mongo_uri})
    assert home.returncode == 0, home.log[-3000:]
    assert terradaily.requests == []
    heatwave = terradaily.url + "reports/Heatwave_strains_power_grids_across_South_Asia_999.html"
    linking = [item["url"] for item in home.items if heatwave in [link["url"] for link in item["related"]]]
    assert linking == [spacewar.url + "reports/US_and_Philippines_expand_joint_patrols_in_South_China_Sea_999.html"]
    db = MongoClient(mongo_uri)[db_name]
    assert db.articles.count_documents({"site": "localhost"}) == 2
    assert db.articles.count_documents({"site": "127.0.0.1"}) == 32
