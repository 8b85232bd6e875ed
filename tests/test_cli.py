"""`python -m spacewar_crawler` over an archive holding the crawled mirror."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest
from pymongo import MongoClient

from spacewar_crawler.archive.articles import ArticleQuery
from spacewar_crawler.archive.documents import to_item
from spacewar_crawler.archive.mongo import MongoArchive
from spacewar_crawler.cli.main import main
from tests.crawl_runner import REPO, run_crawl
from tests.mirror_site import expected_articles
from tests.mongo_server import ON_STAND_IN

DB = "t_cli_archive"


@pytest.fixture(scope="module")
def archived(mirror, mongo_uri, tmp_path_factory):
    """The mirror crawled once into its own database; returns the expected items by URL."""
    MongoClient(mongo_uri).drop_database(DB)
    result = run_crawl(
        mirror.url, tmp_path_factory.mktemp("cli"), settings={"MONGO_DATABASE": DB}, env={"MONGO_URI": mongo_uri}
    )
    assert result.returncode == 0
    return expected_articles(mirror.url)


@pytest.fixture
def cli(mongo_uri, capsys):
    def run(*args: str) -> tuple[int, str, str]:
        code = main([args[0], "--mongo-uri", mongo_uri, "--db", DB, *args[1:]])
        out, err = capsys.readouterr()
        return code, out, err

    return run


def newest_first(items):
    """URLs ordered as the query orders them: published descending, then URL."""
    by_url = sorted(items, key=lambda i: i["url"])
    return [i["url"] for i in sorted(by_url, key=lambda i: i["published"], reverse=True)]


def query_urls(cli, *args):
    code, out, err = cli("query", "--format", "jsonl", "--limit", "0", *args)
    assert code == 0, err
    return [json.loads(line)["url"] for line in out.splitlines()]


@pytest.mark.parametrize(
    ("args", "keep"),
    [
        (["--section", "nuclear-weapons"], lambda i: i["section_slug"] == "nuclear-weapons"),
        (["--section", "Nuclear Weapons"], lambda i: i["section_slug"] == "nuclear-weapons"),
        (["--since", "2025-05-10"], lambda i: i["published"] >= "2025-05-10"),
        (["--until", "2015-12-31"], lambda i: i["published"] <= "2015-12-31"),
        (["--since", "2025-05-10", "--until", "2025-05-13"], lambda i: "2025-05-10" <= i["published"] <= "2025-05-13"),
        (["--author", "staff writers"], lambda i: "staff writers" in (i["author"] or "").lower()),
        (["--agency", "afp"], lambda i: i["agency"] == "AFP"),
        (["--search", "Patriot"], lambda i: "Patriot" in i["title"] + i["body"]),
        (["--search", '"Golden Dome"'], lambda i: "Golden Dome" in i["title"] + i["body"]),
        (
            ["--section", "superpowers", "--since", "2025-05-12", "--agency", "AFP"],
            lambda i: i["section_slug"] == "superpowers" and i["published"] >= "2025-05-12" and i["agency"] == "AFP",
        ),
    ],
)
def test_query_filter_returns_exactly_the_matching_articles_newest_first(archived, cli, args, keep):
    wanted = [i for i in archived.values() if keep(i)]
    assert wanted, "the filter must match something in the mirror"
    assert query_urls(cli, *args) == newest_first(wanted)


def test_query_limit_defaults_to_20_and_is_honoured(archived, cli):
    _, out, _ = cli("query", "--format", "jsonl")
    assert len(out.splitlines()) == 20
    assert query_urls(cli, "--limit", "3") == newest_first(archived.values())[:3]


@pytest.mark.parametrize("text", ['{"$gt": ""}', ".*", "Staff.Writers", "[a-z]+", "$where"])
def test_author_and_section_text_is_matched_literally(archived, cli, text):
    assert query_urls(cli, "--author", text) == []
    assert query_urls(cli, "--section", text) == []


@pytest.mark.parametrize("text", ['{"$gt": ""}', ".*"])
def test_search_text_is_never_an_operator(archived, cli, text):
    assert query_urls(cli, "--search", text) == []


def test_jsonl_output_parses_back_to_the_stored_values(archived, cli):
    _, out, _ = cli("query", "--format", "jsonl", "--limit", "0")
    items = [json.loads(line) for line in out.splitlines()]
    assert len(items) == 32
    for item in items:
        expected = archived[item["url"]]
        assert {k: item[k] for k in expected} == expected
        for name in ("fetched_at", "first_seen", "last_seen", "last_changed"):
            assert item[name].endswith("Z")


def test_csv_output_has_a_header_and_parses_back_to_the_same_values(archived, cli):
    _, out, _ = cli("query", "--format", "csv", "--section", "missile-defense")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 6
    for row in rows:
        expected = archived[row["url"]]
        for name in (
            "published",
            "section",
            "section_slug",
            "title",
            "author",
            "dateline",
            "location",
            "agency",
            "body",
        ):
            assert row[name] == (expected[name] or ""), name


def test_table_fits_100_columns_with_one_line_per_article(archived, cli):
    _, out, _ = cli("query", "--section", "nuclear-weapons")
    lines = out.splitlines()
    assert lines[0].split() == ["DATE", "SECTION", "TITLE", "AUTHOR", "URL"]
    assert len(lines) == 1 + 7
    assert max(len(line) for line in lines) <= 100
    assert lines[1].startswith("2025-05-14  nuclear-wea\u2026  IAEA chief says Iran talks at 'critic\u2026")


def test_show_prints_one_article_as_json_even_from_a_tracking_link(archived, cli, mirror):
    url = mirror.url + "reports/Poland_activates_Patriot_batteries_near_border_999.html"
    code, out, _ = cli("show", url + "?ref=rss#comments")
    assert code == 0
    shown = json.loads(out)
    assert {k: shown[k] for k in archived[url]} == archived[url]


def test_show_of_an_unknown_url_exits_1_with_a_message(archived, cli, mirror):
    code, out, err = cli("show", mirror.url + "reports/Never_published_999.html")
    assert (code, out) == (1, "")
    assert err.strip() == f"show: not archived: {mirror.url}reports/Never_published_999.html"


def test_stats_counts_sections_months_and_lists_runs(archived, cli):
    code, out, _ = cli("stats")
    assert code == 0
    assert out.startswith("Articles: 32\n")
    section_lines = out.split("By section:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in section_lines] == [
        ["military-space", "6"],
        ["military-technology", "5"],
        ["missile-defense", "6"],
        ["nuclear-weapons", "7"],
        ["superpowers", "8"],
    ]
    month_lines = out.split("By month published:\n")[1].split("\n\n")[0].splitlines()
    assert [line.split() for line in month_lines] == [
        ["2010-03", "1"],
        ["2015-10", "1"],
        ["2015-11", "1"],
        ["2025-04", "2"],
        ["2025-05", "27"],
    ]
    runs = out.split("Last crawl runs (1):\n")[1].splitlines()
    assert len(runs) == 1
    assert "finished" in runs[0]
    assert "32 new" in " ".join(runs[0].split())


def test_export_streams_the_whole_archive_and_round_trips_through_replay(archived, cli, tmp_path, mongo_uri):
    code, out, _ = cli("export")
    assert code == 0
    exported = [json.loads(line) for line in out.splitlines()]
    assert sorted(i["url"] for i in exported) == sorted(archived)
    dump = tmp_path / "archive.jsonl"
    dump.write_text(out)
    copy_db = DB + "_copy"
    MongoClient(mongo_uri).drop_database(copy_db)
    assert main(["replay", str(dump), "--mongo-uri", mongo_uri, "--db", copy_db]) == 0
    copied = MongoArchive(mongo_uri, copy_db, "articles", connect_timeout=5.0)
    tracking = ("first_seen", "last_seen", "last_changed")
    round_tripped = [
        {k: v for k, v in to_item(doc).items() if k not in tracking}
        for doc in copied.articles.find(ArticleQuery(), newest_first=False)
    ]
    copied.close()
    assert round_tripped == [{k: v for k, v in i.items() if k not in tracking} for i in exported]


def test_usage_errors_exit_2_and_an_unreachable_server_exits_1():
    bad_date = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "query", "--since", "May 2025"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert bad_date.returncode == 2
    assert "not a date (YYYY-MM-DD): 'May 2025'" in bad_date.stderr
    down = subprocess.run(
        [sys.executable, "-m", "spacewar_crawler", "stats", "--mongo-uri", "mongodb://u:pw@127.0.0.1:9/"],
        cwd=REPO, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert down.returncode == 1
    assert down.stderr.startswith("error: Cannot reach MongoDB at mongodb://u:***@127.0.0.1:9/")


@pytest.mark.skipif(ON_STAND_IN, reason="nx-27017 answers explain() with SQLite plan text; needs MONGO_TEST_URI")
def test_section_and_date_query_is_served_by_an_index(archived, mongo_uri):
    archive = MongoArchive(mongo_uri, DB, "articles", connect_timeout=5.0)
    plan = json.dumps(archive.articles.explain_find(ArticleQuery(section="superpowers"), 20), default=str)
    archive.close()
    assert "IXSCAN" in plan
    assert "COLLSCAN" not in plan
