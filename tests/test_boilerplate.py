"""The boilerplate rules: what goes, what stays."""

from __future__ import annotations

import pytest

from spacewar_crawler.reading.boilerplate import BoilerplateStripper, is_boilerplate

ARTICLE = "China said Thursday it was ready to expand cooperation."


def clean(*paragraphs: str) -> list[str]:
    return BoilerplateStripper().clean_paragraphs(list(paragraphs))


@pytest.mark.parametrize(
    "furniture",
    [
        "Tweet",
        "Tweet Share this article via these social bookmark links Email This Article",
        "The following news reports may link to other Space Media Network websites.",
        "Advertisement",
        "read more",
        "SpaceDaily Monthly Supporter $5+ Billed Monthly",
        "SpaceDaily Contributor $5 Billed Once",
        "credit card or paypal",
    ],
)
def test_furniture_paragraph_is_removed_and_the_article_around_it_stays(furniture):
    assert clean(ARTICLE, furniture, "Second paragraph.") == [ARTICLE, "Second paragraph."]


@pytest.mark.parametrize(
    "ending",
    [
        "Related Links",
        "RELATED CONTENT",
        "The content herein, unless otherwise known to be public domain, are Copyright 1995-2024 - Space Media Network",
        "General Data Protection Regulation (GDPR) Statement Our advertisers use various cookies and the like.",
    ],
)
def test_end_of_article_block_drops_it_and_everything_after(ending):
    assert clean(ARTICLE, ending, "Learn about the Superpowers of the 21st Century at SpaceWar.com") == [ARTICLE]


TRAILERS = [
    "Subscribe Free To Our Daily Newsletters",
    "Thanks for being here; We need your help. The SpaceDaily news network continues to grow.",
    "Comment using your Disqus, Facebook, Google or Twitter login.",
]


@pytest.mark.parametrize("trailer", TRAILERS)
def test_trailer_after_the_article_text_ends_it(trailer):
    assert clean(ARTICLE, trailer, "SpaceDaily Monthly Supporter tiers and other text") == [ARTICLE]


@pytest.mark.parametrize("trailer", TRAILERS)
def test_trailer_above_the_article_text_is_dropped_without_ending_it(trailer):
    assert clean(trailer, ARTICLE, "Second paragraph.") == [ARTICLE, "Second paragraph."]


@pytest.mark.parametrize(
    "paragraph",
    [
        "The archive says its restored versions are protected by copyright.",
        "Subscribers to its newsletter gave consent under the General Data Protection Regulation (GDPR).",
        "The broadcaster said a privacy statement cannot create rights over public images.",
        "Officials said they would tweet updates from the launch site.",
        "Thanks to the new radar, the advertisement of troop movements is harder.",
    ],
)
def test_article_paragraph_that_mentions_boilerplate_words_is_kept(paragraph):
    assert not is_boilerplate(paragraph)
    assert clean(paragraph) == [paragraph]


def test_whitespace_is_normalized_and_empty_paragraphs_vanish():
    body = "  China\u00a0said   Thursday\n it was ready.  \n\n \u200b \n\nSecond   one."
    assert BoilerplateStripper().clean_body(body) == "China said Thursday it was ready.\n\nSecond one."


def test_long_furniture_phrase_glued_to_the_end_of_a_paragraph_is_removed():
    glued = ARTICLE + " Subscribe Free To Our Daily Newsletters"
    assert clean(glued, "Second paragraph.") == [ARTICLE, "Second paragraph."]


def test_short_furniture_word_ending_a_sentence_stays():
    assert clean("The minister replied in a tweet") == ["The minister replied in a tweet"]


def test_copyright_notice_starting_mid_paragraph_ends_the_article_there():
    glued = ARTICLE + " The content herein, unless otherwise known to be public domain, are Copyright 1995-2024"
    assert clean(glued, "Anything after") == [ARTICLE]
