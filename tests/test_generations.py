"""Telling a site's generation from its home page, the WordPress URL rules, and a post's structured data."""

from __future__ import annotations

import re

import pytest

from spacewar_crawler.reading.generation import detect_generation
from spacewar_crawler.reading.pages import ArticlePage, ListingPage
from spacewar_crawler.reading.structured import calendar_date, structured_article
from spacewar_crawler.site.urls import CLASSIC, WORDPRESS, SiteUrls
from tests.mirror_site import SITE, WORDPRESS_SITE_URL, wordpress_page

WP = "https://spacedaily.com/"


def generation(html: bytes | str, url: str) -> tuple[str | None, tuple[str, ...]]:
    found = detect_generation(ListingPage(html, url))
    return found.name, found.evidence


def test_the_classic_mirror_home_page_is_the_classic_generation():
    assert generation((SITE / "index.html").read_bytes(), "http://127.0.0.1:8000/") == (
        CLASSIC, ("5 section pages, 5 classic article links",)
    )  # fmt: skip


def test_the_wordpress_mirror_home_page_is_the_wordpress_generation():
    name, evidence = generation(wordpress_page("/", WP), WP)
    assert name == WORDPRESS
    assert evidence == (
        "generator meta 'WordPress 6.7.1'",
        "API link https://spacedaily.com/wp-json/",
        "paths /wp-content/, /wp-includes/, /wp-json/",
    )


@pytest.mark.parametrize(
    "head",
    [
        '<link rel="https://api.w.org/" href="/wp-json/">',
        '<link rel="stylesheet" href="/wp-content/themes/x/style.css">',
        '<meta name="generator" content="WordPress 6.5">',
    ],
)
def test_any_one_mark_of_wordpress_tells_it(head):
    html = f"<html><head>{head}</head><body><h1>News</h1><a href='/reports/A_999.html'>A story</a></body></html>"
    assert generation(html, WP)[0] == WORDPRESS


@pytest.mark.parametrize(
    "body",
    [
        "<h1>Coming soon</h1><p>A new site is on its way.</p>",
        '<a href="/products.html">Products</a> <a href="/about.html">About</a>',  # one "section" is any site's page
        '<a href="https://other.example/wp-content/x.css">a theme seen elsewhere</a>',  # another host's WordPress
    ],
)
def test_a_home_page_with_neither_generation_tells_none(body):
    assert generation(f"<html><body>{body}</body></html>", WP) == (None, ())


@pytest.mark.parametrize(
    ("url", "article", "listing"),
    [
        ("https://spacedaily.com/century-old-solar-records-refine-future-cycle-forecasts-999/", True, False),
        ("https://spacedaily.com/2026/02/03/raptor-engine-test/", True, False),
        ("https://spacedaily.com/reports/Old_story_999.html", True, False),  # classic URLs redirect: still articles
        ("https://spacedaily.com/category/news/", False, True),
        ("https://spacedaily.com/category/news/page/2/", False, True),
        ("https://spacedaily.com/about/", False, False),
        ("https://spacedaily.com/tag/mars-rovers/", False, False),
        ("https://spacedaily.com/wp-json/wp/v2/posts", False, False),
        ("https://spacedaily.com/feed/", False, False),
        ("https://www.terradaily.com/ice-sheet-loss-slows/", False, False),  # a sister site's post: not this site's
    ],
)
def test_wordpress_urls(url, article, listing):
    urls = SiteUrls(WP, WORDPRESS)
    assert (urls.is_article(url), urls.is_listing_candidate(url)) == (article, listing)


def test_a_classic_site_does_not_take_wordpress_shaped_links_for_articles():
    assert not SiteUrls("https://www.spacewar.com/").is_article("https://www.spacewar.com/advertise-with-us/")


def test_json_ld_graph_gives_the_article_with_its_author_by_reference():
    page = wordpress_page("/europe-ai-act-commission-fines-august-2026/", WORDPRESS_SITE_URL)
    found = structured_article(ListingPage(page, WP).root)
    assert found is not None
    assert (found.headline, found.author, found.section) == ("EU fines under the AI Act start in August",
                                                             "Issam Ahmed", "News")  # fmt: skip
    assert (found.published, found.modified) == ("2026-02-02T18:05:00+10:00", "2026-02-02T18:05:00+10:00")


@pytest.mark.parametrize(
    ("script", "author"),
    [
        ('{"@type": ["NewsArticle"], "headline": "H", "author": [{"name": "A"}, {"name": "B"}]}', "A and B"),
        ('{"@type": "BlogPosting", "headline": "H", "author": "https://x.example/u/1"}', None),
        ('{"@type": "WebPage", "headline": "H"}', "no article"),
        ("{not json", "no article"),
    ],
)
def test_json_ld_variants(script, author):
    html = f'<html><head><script type="application/ld+json">{script}</script></head><body></body></html>'
    found = structured_article(ListingPage(html, WP).root)
    assert (found.author if found else "no article") == author


def test_a_structured_date_is_the_calendar_date_the_site_printed():
    assert calendar_date("2026-02-03T00:30:00+10:00").isoformat() == "2026-02-03"  # UTC: February 2
    assert calendar_date("not a date") is None


def test_a_post_without_dateline_or_structured_data_takes_its_dates_from_the_theme():
    """Core WordPress themes print no JSON-LD and no article: meta: the entry's <time> elements say when."""
    page = wordpress_page("/the-raptor-3-was-supposed-to-be-simpler/", WP).decode()
    page = re.sub(r'<script type="application/ld\+json".*?</script>|<meta property="article:[^>]*>', "", page)
    page = page.replace("<p>Los Angeles CA (SPX) Jan 28, 2026</p>", "").replace(
        '<time class="entry-date published updated" datetime="2026-01-28T07:30:00+10:00">January 28, 2026</time>',
        '<time class="entry-date published" datetime="2026-01-28T07:30:00+10:00">January 28, 2026</time>'
        '<time class="updated" datetime="2026-01-29T08:00:00+10:00">January 29, 2026</time>',
    )
    item = ArticlePage(page, WP + "the-raptor-3-was-supposed-to-be-simpler/").to_item()
    assert (item.dateline, item.published, item.modified) == (None, "2026-01-28", "2026-01-29T08:00:00+10:00")
    assert item.warnings == ["no_dateline", "date_from_fallback"]
