"""Quality signals: warnings on stored articles, a run's figures per layout, the drift alarm, audit and reextract."""

from __future__ import annotations

import json
import re

import pytest
from pymongo import MongoClient

from spacewar_crawler.reading.quality import ArticleQuality, RunQuality
from tests.crawl_runner import run_crawl
from tests.mirror_site import expected_articles
from tests.test_warc import cli


def quality(layout: str, n: int, with_author: int) -> RunQuality:
    return RunQuality.of(
        ArticleQuality(f"u{i}", layout, author=i < with_author, dateline=True, images=False) for i in range(n)
    )


def test_run_figures_are_shares_per_layout_and_over_all():
    run = RunQuality.of([*quality("a", 4, 3).articles["a"], *quality("b", 1, 0).articles["b"]])
    assert run.figures() == {
        "a": {"articles": 4, "author": 75.0, "dateline": 100.0, "images": 0.0},
        "all": {"articles": 5, "author": 60.0, "dateline": 100.0, "images": 0.0},
        "b": {"articles": 1, "author": 0.0, "dateline": 100.0, "images": 0.0},
    }


def test_drift_alarm_fires_more_than_the_margin_under_the_median_of_qualifying_runs():
    history = [quality("a", 30, n).figures() for n in (30, 29, 3, 28, 27, 30)]  # newest first; 3 of 30 is 10%
    alarms = quality("a", 25, 15).drift(history, runs=5, min_articles=20, points=20)  # 60% against a median of 93.3%
    assert [(a.figure, a.layout, a.share, a.median, a.examples) for a in alarms] == [
        ("author", "a", 60.0, 93.3, ["u15", "u16", "u17"]),
        ("author", "all", 60.0, 93.3, ["u15", "u16", "u17"]),
    ]


def test_no_drift_alarm_within_the_margin_or_without_enough_articles():
    history = [quality("a", 30, 30).figures()]
    assert quality("a", 25, 21).drift(history, runs=5, min_articles=20, points=20) == []  # 84% against 100%
    assert quality("a", 10, 0).drift(history, runs=5, min_articles=20, points=20) == []  # too few this run
    small_history = [quality("a", 10, 10).figures()]
    assert quality("a", 25, 0).drift(small_history, runs=5, min_articles=20, points=20) == []


def strip_bylines(root):
    """The pages lose their bylines, as a redesign that moves them out of reach would."""
    for page in [*root.glob("reports/*.html"), *root.glob("afp/*.html")]:
        html = page.read_text(encoding="utf-8", errors="surrogateescape")
        html = re.sub(r'<div class="byline">[^<]*</div>', "", html)
        html = re.sub(r'(<span class="storydate">)by [^<]*<br>\s*', r"\1", html)
        page.write_text(html, encoding="utf-8", errors="surrogateescape")


@pytest.fixture
def crawl(mirror_copy, tmp_path, mongo_uri, db_name):
    def run(*args: str):
        settings = {"MONGO_DATABASE": db_name, "QUALITY_DRIFT_MIN_ARTICLES": "10"}
        return run_crawl(mirror_copy.url, tmp_path, *args, settings=settings, env={"MONGO_URI": mongo_uri})

    return run


def test_run_that_loses_its_bylines_warns_names_the_figure_and_records_it(crawl, mirror_copy, mongo_uri, db_name):
    first = crawl()
    assert first.returncode == 0, first.log[-3000:]
    assert "WARNING: Extraction drift" not in first.log
    assert "    story-article      16 articles: author 94%, dateline 100%, images 19%" in first.log
    strip_bylines(mirror_copy.root)
    second = crawl("-a", "refresh=1")
    assert second.returncode == 0, second.log[-3000:]
    warnings = re.findall(r"WARNING: (Extraction drift: .*)", second.log)
    assert [re.sub(r"for example .*", "", w) for w in warnings] == [
        "Extraction drift: author share 0% for layout all, against a median of 84% over recent runs; ",
        "Extraction drift: author share 0% for layout story-article, against a median of 94% over recent runs; ",
        "Extraction drift: author share 0% for layout table-story, against a median of 92% over recent runs; ",
    ]
    examples = warnings[1].split("for example ", 1)[1].split(", ")
    assert len(examples) == 3
    assert all(url.startswith(mirror_copy.url + "reports/") for url in examples)
    run = MongoClient(mongo_uri)[db_name].crawl_runs.find_one({}, sort=[("started_at", -1)])
    assert [(d["figure"], d["layout"], d["share"]) for d in run["counts"]["drift"]] == [
        ("author", "all", 0.0),
        ("author", "story-article", 0.0),
        ("author", "table-story", 0.0),
    ]
    # The 15 that lost a byline were refreshed (same text, other fields); the one that never had one is unchanged.
    assert run["counts"]["quality"]["story-article"] == {
        "articles": 15,
        "author": 0.0,
        "dateline": 100.0,
        "images": 20.0,
    }
    assert run["counts"]["articles_refreshed"] == 15 + 11


def test_audit_lists_the_stored_articles_with_a_warning(crawl, mirror_copy, tmp_path, mongo_uri, db_name):
    assert crawl().returncode == 0
    shown = cli(mongo_uri, db_name, tmp_path, "audit", "--warning", "no_byline", "--format", "jsonl")
    assert shown.returncode == 0, shown.stderr
    listed = sorted(json.loads(line)["url"] for line in shown.stdout.decode().splitlines())
    assert listed == sorted(url for url, e in expected_articles(mirror_copy.url).items() if e["author"] is None)
    by_layout = cli(mongo_uri, db_name, tmp_path, "audit", "--layout", "wire-div")
    rows = by_layout.stdout.decode().splitlines()
    assert rows[0].split() == ["DATE", "LAYOUT", "WARNINGS", "URL"]
    assert len(rows) == 1 + 4
    assert all(" wire-div " in row for row in rows[1:])


def test_reextract_of_one_warning_goes_on_past_a_page_it_cannot_read(crawl, tmp_path, mongo_uri, db_name):
    assert crawl().returncode == 0
    articles = MongoClient(mongo_uri)[db_name].articles
    no_byline = sorted(d["_id"] for d in articles.find({"warnings": "no_byline"}))
    articles.update_one({"_id": no_byline[0]}, {"$set": {"warc_offset": 10**9}})
    done = cli(mongo_uri, db_name, tmp_path, "reextract", "--warning", "no_byline")
    assert done.returncode == 1
    assert done.stdout.decode().strip() == (
        f"re-extracted {len(no_byline)} articles: 0 changed, 0 refreshed, {len(no_byline) - 1} unchanged, "
        "0 without original, 1 failed"
    )
    assert f"reextract: {no_byline[0]}: original_unreadable" in done.stderr.decode()
    reject = MongoClient(mongo_uri)[db_name].rejects.find_one({"url": no_byline[0]})
    assert reject["reason"].startswith("reextract: original_unreadable")
