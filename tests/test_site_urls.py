"""URL rules: which hosts belong to the network and which URLs can be articles."""

from __future__ import annotations

import pytest

from spacewar_crawler.site.urls import SiteUrls, is_smn_host, may_be_article

SITE = SiteUrls("http://127.0.0.1:8000/")


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("www.spacedaily.com", True),
        ("spacedaily.com", True),
        ("WWW.SpaceWar.com", True),
        ("news.energy-daily.com", True),
        ("www.space-travel.com", True),
        ("www.nuclearpowerdaily.com", True),
        ("skynightly.com", True),
        ("spacetravel.com", False),
        ("www.rocketdaily.com", False),
        ("satnews.com", False),
        ("evilspacedaily.com", False),
        ("spacedaily.com.example.net", False),
        ("com", False),
        ("", False),
    ],
)
def test_network_hosts_are_the_smn_domains_and_their_subdomains(host, expected):
    assert is_smn_host(host) is expected


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://127.0.0.1:8000/reports/A_999.html", True),
        ("http://127.0.0.1:8000/AFP/260302234435.o89e9bqh.html", True),
        ("https://www.spacedaily.com/Launch_Pad.html", False),
        ("http://127.0.0.1:8000/Superpowers.html", False),
        # A percent-escape may unquote to an article path in the canonical form: not ruled out.
        ("http://127.0.0.1:8000/report%73/A_999.html", True),
        ("/Superpowers.html", False),
        ("//www.spacedaily.com/reports/B_999.html", True),
        ("mailto:editor@spacewar.com", False),
        # Relative to the page: decided once resolved.
        ("A_999.html", True),
        ("../Superpowers.html", True),
    ],
)
def test_only_links_that_cannot_lead_to_articles_are_ruled_out_early(url, expected):
    assert may_be_article(url) is expected


def test_an_escaped_article_path_is_an_article_once_canonical():
    url = SITE.canonical("http://127.0.0.1:8000/report%73/A_999.html")
    assert url == "http://127.0.0.1:8000/reports/A_999.html"
    assert SITE.is_network_article(url)


def test_the_network_is_its_own_list_of_24_sites():
    from spacewar_crawler.site.urls import NETWORK_SITES

    assert len(NETWORK_SITES) == len(set(NETWORK_SITES)) == 24
