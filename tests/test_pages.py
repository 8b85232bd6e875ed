"""The page parser on the mirror's saved pages: one behaviour per test, exact values."""

from __future__ import annotations

from datetime import date

from spacewar_crawler.reading.pages import ArticlePage, LinkedArticle, ListingPage, Picture
from tests.mirror_site import saved_page

BASE = "http://127.0.0.1:8000/"


def page(path: str) -> ArticlePage:
    return ArticlePage(saved_page(path), BASE.rstrip("/") + path)


def listing(path: str) -> ListingPage:
    return ListingPage(saved_page(path), BASE.rstrip("/") + path)


def test_title_comes_from_the_headline_of_a_table_layout():
    assert page("/reports/Russia_tests_upgraded_Yars_missile_999.html").title == "Russia tests upgraded Yars missile"


def test_title_falls_back_to_og_title_when_there_is_no_headline_element():
    assert (
        page("/afp/250512093012.k2j4lm7q.html").title
        == "Russia and China pledge deeper coordination ahead of Victory Day talks"
    )


def test_title_falls_back_to_the_title_element_without_the_site_name():
    html = saved_page("/afp/250512093012.k2j4lm7q.html").replace(b'<meta property="og:title"', b'<meta name="x"')
    assert (
        ArticlePage(html, BASE + "afp/250512093012.k2j4lm7q.html").title
        == "Russia and China pledge deeper coordination ahead of Victory Day talks"
    )


def test_section_label_is_given_as_the_navigation_bar_spells_it():
    article = page("/reports/Russia_tests_upgraded_Yars_missile_999.html")
    assert (article.section, article.to_item().section_slug) == ("Nuclear Weapons", "nuclear-weapons")


def test_section_comes_from_the_related_links_listing_when_no_label_is_printed():
    assert page("/afp/250503121500.p7r2xk4d.html").section == "Missile Defense"


def test_byline_loses_its_leading_by():
    assert page("/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html").author == (
        "AFP Staff Writers"
    )


def test_page_without_byline_has_no_author():
    assert page("/reports/India_and_France_sign_submarine_deal_999.html").author is None


def test_staff_writers_byline_with_a_dateline_without_agency():
    article = page("/reports/US_and_Philippines_expand_joint_patrols_in_South_China_Sea_999.html")
    fields = vars(article.to_item())
    assert (fields["author"], fields["dateline"], fields["location"], fields["agency"], fields["published"]) == (
        "Staff Writers",
        "Manila, Philippines May 11, 2025",
        "Manila, Philippines",
        None,
        "2025-05-11",
    )


def test_two_named_authors_stay_one_string():
    assert page("/reports/IAEA_chief_says_Iran_talks_at_critical_stage_999.html").author == (
        "Sarah Moreau and David Lindqvist"
    )


def test_dateline_splits_into_place_agency_and_date():
    path = "/reports/STARA_Technologies_Demos_UAV_Precision_Airdrop_Capabilities_For_US_Military.html"
    fields = vars(page(path).to_item())
    assert (fields["dateline"], fields["location"], fields["agency"], fields["published"]) == (
        "Huntsville, Ala. (SPX) Oct 14, 2015",
        "Huntsville, Ala.",
        "SPX",
        "2015-10-14",
    )


def test_dateline_opening_the_first_paragraph_is_split_off_the_body():
    article = page("/afp/250503121500.p7r2xk4d.html")
    assert article.dateline is not None
    assert (article.dateline.raw, article.dateline.agency) == ("Seoul (AFP) May 3, 2025", "AFP")
    assert article.paragraphs[0] == (
        "South Korea has deployed its first battery of the domestically developed L-SAM long-range interceptor, "
        "the defence acquisition agency said on Saturday."
    )


def test_without_dateline_the_date_comes_from_the_page_header():
    article = page("/reports/Missile_defense_test_postponed_after_sensor_fault_999.html")
    assert (article.dateline, article.published) == (None, date(2025, 5, 5))


def test_without_dateline_a_published_meta_tag_is_used():
    html = saved_page("/reports/Space_Force_launches_new_GPS_III_satellite_999.html").replace(
        b"Cape Canaveral FL (SPX) May 14, 2025", b""
    )
    article = ArticlePage(html.replace(b"date 2025-05-14", b"date 2025-06-01"), BASE + "reports/x_999.html")
    assert (article.dateline, article.published) == (None, date(2025, 5, 14))


def test_windows_1252_page_keeps_its_smart_quotes():
    article = page("/reports/Pentagons_Golden_Dome_plan_draws_questions_from_allies_999.html")
    assert article.title == "Pentagon\u2019s \u2018Golden Dome\u2019 plan draws questions from allies"
    assert (
        article.paragraphs[2]
        == "\u201cWe want to understand the architecture before we commit,\u201d a Canadian defence official said."
    )


def test_figure_image_has_its_caption_and_the_caption_is_not_body_text():
    article = page("/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html")
    caption = "Chinese and Russian officers at a joint exercise in 2024 (file image)."
    assert article.images == [
        Picture("https://www.spxdaily.com/images-hg/china-russia-military-cooperation-hg.jpg", caption)
    ]
    assert caption not in article.body


def test_table_layout_image_caption_is_the_italic_line_under_it():
    article = page("/reports/Iowa_team_tests_radiation_hardened_chip_for_military_satellites_999.html")
    assert article.images == [
        Picture(
            "https://www.spxdaily.com/images-bg/radiation-hardened-chip-bg.jpg",
            "The test chip mounted on its evaluation board.",
        )
    ]
    assert "evaluation board" not in article.body


def test_image_without_caption_has_none():
    assert page("/reports/North_Korea_unveils_new_enrichment_site_images_999.html").images == [
        Picture("https://www.spxdaily.com/images-lg/north-korea-centrifuge-hall-lg.jpg", None)
    ]


def test_logos_and_ad_banners_are_not_article_images():
    assert page("/reports/Russia_tests_upgraded_Yars_missile_999.html").images == []


def test_related_content_lists_article_links_in_page_order_with_labels_and_sister_sites():
    related = page("/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html").related
    assert [(r.url.removeprefix(BASE.rstrip("/")), r.label) for r in related] == [
        ("/reports/Cambodia_China_begin_largest-ever_military_drills_999.html", "SUPERPOWERS"),
        ("/reports/Israel_warns_Yemenis_to_avoid_ports_after_intercepting_missile_999.html", "SUPERPOWERS"),
        (
            "https://www.spacedaily.com/reports/China_and_Russia_plan_joint_lunar_research_station_999.html",
            "SPACE EXPLORATION",
        ),
        ("/reports/Poland_activates_Patriot_batteries_near_border_999.html", "MISSILE DEFENSE"),
        ("/reports/IAEA_chief_says_Iran_talks_at_critical_stage_999.html", "NUCLEAR WEAPONS"),
    ]


def test_related_links_are_the_list_under_the_body():
    assert page("/reports/IAEA_chief_says_Iran_talks_at_critical_stage_999.html").related_links == [
        LinkedArticle(
            BASE + "Nuclear_Weapons.html", "Learn about nuclear weapons doctrine and defense at SpaceWar.com"
        ),
        LinkedArticle("https://www.iaea.org/", "International Atomic Energy Agency"),
    ]


def test_article_about_copyright_and_gdpr_keeps_those_paragraphs():
    path = "/reports/Court_weighs_copyright_claim_over_declassified_nuclear_test_films_999.html"
    body = page(path).body
    paragraphs = body.split("\n\n")
    assert len(paragraphs) == 4
    assert paragraphs[2].startswith("Lawyers for the archive said subscribers to its free daily newsletter")
    assert "General Data Protection Regulation (GDPR)" in paragraphs[2]
    assert paragraphs[3].startswith("The broadcaster argues that a privacy statement")


def test_navigation_bar_gives_the_sections_and_their_listing_pages():
    assert page("/reports/Russia_tests_upgraded_Yars_missile_999.html").sections == {
        "Superpowers": BASE + "Superpowers.html",
        "Nuclear Weapons": BASE + "Nuclear_Weapons.html",
        "Missile Defense": BASE + "Missile_Defense.html",
        "Military Space": BASE + "Military_Space.html",
        "Military Technology": BASE + "Military_Technology.html",
    }


def test_listing_page_names_its_section_and_lists_its_articles_and_older_page():
    superpowers = listing("/Superpowers.html")
    assert superpowers.section == "Superpowers"
    assert [a.url.removeprefix(BASE) for a in superpowers.articles] == [
        "reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html",
        "reports/Cambodia_China_begin_largest-ever_military_drills_999.html",
        "reports/Israel_warns_Yemenis_to_avoid_ports_after_intercepting_missile_999.html",
        "afp/250512093012.k2j4lm7q.html",
        "reports/US_and_Philippines_expand_joint_patrols_in_South_China_Sea_999.html",
        "reports/India_and_France_sign_submarine_deal_999.html",
    ]
    assert superpowers.older_pages == [BASE + "Superpowers_2.html"]


def test_listing_links_with_tracking_query_or_fragment_are_canonical():
    urls = [a.url for a in listing("/Missile_Defense.html").articles]
    assert BASE + "reports/Poland_activates_Patriot_batteries_near_border_999.html" in urls
    assert not [u for u in urls if "?" in u or "#" in u]


def test_a_page_without_article_links_is_not_a_listing():
    assert listing("/about.html").is_listing is False
