"""`scrapy crawl spacewar` against the served mirror: the real engine, downloader and pipelines."""

from __future__ import annotations

import hashlib
import re

import pytest
from pymongo import MongoClient

from spacewar_crawler.reading.page_text import normalize_space
from tests.crawl_runner import run_crawl
from tests.mirror_site import expected_articles

BOILERPLATE_PHRASES = (
    "The content herein",
    "General Data Protection Regulation (GDPR) Statement",
    "Subscribe Free To Our Daily Newsletters",
    "Thanks for being here",
    "Monthly Supporter",
    "Comment using your Disqus",
    "Share this article via these social bookmark links",
    "Email This Article",
    "Related Links",
    "RELATED CONTENT",
    "Tweet",
    "read more",
    "Advertisement",
)


@pytest.fixture(scope="module")
def full_crawl(mirror, tmp_path_factory, mongo_uri):
    MongoClient(mongo_uri).drop_database("t_full_crawl")
    mirror.clear_log()
    result = run_crawl(
        mirror.url,
        tmp_path_factory.mktemp("full"),
        settings={"MONGO_DATABASE": "t_full_crawl"},
        env={"MONGO_URI": mongo_uri},
    )
    result.requests = list(mirror.requests)
    return result


@pytest.fixture
def section_crawl(mirror, tmp_path, mongo_uri, db_name):
    def crawl(section: str):
        return run_crawl(
            mirror.url,
            tmp_path,
            "-a",
            f"section={section}",
            settings={"MONGO_DATABASE": db_name},
            env={"MONGO_URI": mongo_uri},
        )

    return crawl


def normalized_body(body: str) -> str:
    return "\n\n".join(normalize_space(p) for p in re.split(r"\n\s*\n", body))


def path_of(url: str) -> str:
    return re.sub(r"^https?://[^/]+", "", url)


def test_full_crawl_yields_one_item_per_real_article(full_crawl, mirror):
    assert full_crawl.returncode == 0, full_crawl.log[-3000:]
    urls = [item["url"] for item in full_crawl.items]
    assert sorted(urls) == sorted(expected_articles(mirror.url))
    assert len(urls) == len(set(urls)) == 32


@pytest.mark.parametrize("url", sorted(path_of(u) for u in expected_articles("http://x/")))
def test_crawled_item_equals_the_hand_written_expectation(full_crawl, mirror, url):
    expected = expected_articles(mirror.url)[mirror.url.rstrip("/") + url]
    item = dict(full_crawl.by_url()[expected["url"]])
    fetched_at = item.pop("fetched_at")
    content_hash = item.pop("content_hash")
    warc_file, warc_offset = item.pop("warc_file"), item.pop("warc_offset")
    assert re.fullmatch(r"spacewar-\d{8}T\d{6}Z-\d+-[0-9a-f]{6}-00001\.warc\.gz", warc_file)
    assert warc_offset > 0
    item["body"] = normalized_body(item["body"])
    # The URLs that redirected to this one are the archive's to gather (tests/test_storage_crawl.py): an item has
    # only those its own fetch followed, and the run may have met the new URL first.
    assert item.pop("aliases") in ([], expected["aliases"])
    wanted = {k: v for k, v in expected.items() if k != "aliases"}
    assert item == {**wanted, "body": normalized_body(expected["body"])}
    assert content_hash == hashlib.sha256(f"{expected['title']}\n\n{expected['body']}".encode()).hexdigest()
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fetched_at)


def test_no_crawled_body_contains_boilerplate(full_crawl):
    found = [(item["url"], p) for item in full_crawl.items for p in BOILERPLATE_PHRASES if p in item["body"]]
    assert found == []


def test_redirected_listing_link_is_stored_under_its_final_url_only(full_crawl, mirror):
    urls = full_crawl.by_url()
    assert mirror.url + "reports/Japan_orders_more_SM-3_interceptors_999.html" in urls
    assert mirror.url + "reports/Japan_orders_SM-3_interceptors.html" not in urls
    assert full_crawl.requests.count("/reports/Japan_orders_SM-3_interceptors.html") == 1


def test_article_linked_with_tracking_query_and_fragment_is_fetched_once(full_crawl):
    assert full_crawl.requests.count("/reports/Poland_activates_Patriot_batteries_near_border_999.html") == 1
    assert (
        full_crawl.requests.count(
            "/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html"
        )
        == 1
    )


def test_article_reachable_only_through_related_content_is_crawled(full_crawl, mirror):
    assert mirror.url + "reports/Arms_control_experts_warn_of_new_missile_race_999.html" in full_crawl.by_url()


def test_sister_site_articles_are_recorded_but_never_requested(full_crawl):
    item = next(i for i in full_crawl.items if i["url"].endswith("Space_Force_launches_new_GPS_III_satellite_999.html"))
    sister = "https://www.spacedaily.com/reports/New_tracking_radar_joins_space_surveillance_network_999.html"
    assert sister in [r["url"] for r in item["related"]]
    stats = full_crawl.stats
    # Every request the downloader made was answered by the mirror (robots.txt included).
    assert stats["downloader/request_count"] == len(full_crawl.requests)


def test_robots_txt_is_obeyed_and_fetched_first(full_crawl):
    assert full_crawl.requests[0] == "/robots.txt"


def test_crawl_stats_count_pages_articles_and_drops(full_crawl):
    stats = full_crawl.stats
    assert {k: v for k, v in stats.items() if k.startswith("spacewar/")} == {
        "spacewar/pages/home": 1,
        "spacewar/generation/classic": 1,
        "spacewar/articles/aliases": 1,  # /reports/Japan_orders_SM-3_interceptors.html redirects to its new URL
        "spacewar/feeds/read": 4,
        "spacewar/pages/listing": 6,
        "spacewar/pages/article": 32,
        "spacewar/articles/yielded": 32,
        "spacewar/articles/linked": 91,  # article links followed: 32 fetched, 58 stopped as duplicates, 1 not found
        "spacewar/fetch_failed/http_404": 1,
        "spacewar/dropped/fetch_failed": 1,
        "spacewar/articles/new": 32,
        "spacewar/articles/changed": 0,
        "spacewar/articles/refreshed": 0,
        "spacewar/articles/unchanged": 0,
        "spacewar/storage/retries": 0,
        "spacewar/storage/spilled": 0,
        "spacewar/storage/lost": 0,
        "spacewar/layout/story-article": 16,
        "spacewar/layout/table-story": 12,
        "spacewar/layout/wire-div": 4,
        "spacewar/quality_layout_unknown": 0,
        # Every further link to an article this run has fetched (listings, RELATED CONTENT, feeds, the redirected
        # listing link) stops at the crawl state, before the site.
        "spacewar/gate/duplicate": 58,
    }
    assert stats["item_scraped_count"] == 32


def test_missing_article_is_logged_with_its_url(full_crawl):
    assert re.search(
        r"Dropped \S+/reports/Hypersonic_glide_vehicle_test_fails_over_Pacific_999\.html: fetch_failed: http_404",
        full_crawl.log,
    )


NUCLEAR = {
    "/reports/IAEA_chief_says_Iran_talks_at_critical_stage_999.html",
    "/reports/Russia_tests_upgraded_Yars_missile_999.html",
    "/reports/North_Korea_unveils_new_enrichment_site_images_999.html",
    "/reports/US_nuclear_modernisation_costs_rise_again_watchdog_says_999.html",
    "/reports/Court_weighs_copyright_claim_over_declassified_nuclear_test_films_999.html",
    "/reports/UK_to_renew_Trident_warhead_partnership_999.html",
    "/reports/Arms_control_experts_warn_of_new_missile_race_999.html",
}


def test_section_crawl_yields_its_listing_articles_and_related_articles_labelled_with_it(section_crawl):
    result = section_crawl("nuclear-weapons")
    assert result.returncode == 0, result.log[-3000:]
    assert {path_of(i["url"]) for i in result.items} == NUCLEAR
    assert {i["section_slug"] for i in result.items} == {"nuclear-weapons"}


def test_section_crawl_follows_older_listing_pages(section_crawl):
    result = section_crawl("superpowers")
    assert sorted(path_of(i["url"]) for i in result.items) == sorted(
        e["url"] for e in expected_articles("").values() if e["section"] == "Superpowers"
    )
    assert len(result.items) == 8


def test_section_accepts_the_display_name_case_insensitively(section_crawl):
    result = section_crawl("missile DEFENSE")
    assert sorted(path_of(i["url"]) for i in result.items) == sorted(
        e["url"] for e in expected_articles("").values() if e["section"] == "Missile Defense"
    )


def test_unknown_section_fails_with_the_list_of_known_sections(section_crawl):
    result = section_crawl("space-pirates")
    assert result.returncode == 1
    assert result.items == []
    assert (
        "Unknown section 'space-pirates'. Known sections: superpowers (Superpowers), "
        "nuclear-weapons (Nuclear Weapons), missile-defense (Missile Defense), "
        "military-space (Military Space), military-technology (Military Technology)"
    ) in result.log


@pytest.mark.parametrize("per_site", [2, 3])
def test_no_more_requests_reach_the_site_at_once_than_the_per_site_limit(mirror_copy, tmp_path, per_site):
    # Each answer takes 0.3 s and requests may start 0.05 s apart: the limit, not the delay, is what holds them back.
    mirror_copy.latency = 0.3
    result = run_crawl(
        mirror_copy.url,
        tmp_path,
        "-a",
        "section=nuclear-weapons",
        settings={"MONGO_ENABLED": "0", "DOWNLOAD_DELAY": "0.05", "CONCURRENT_REQUESTS_PER_DOMAIN": str(per_site)},
    )
    assert result.returncode == 0, result.log[-3000:]
    assert len(result.items) == 7
    assert mirror_copy.max_in_flight == per_site
