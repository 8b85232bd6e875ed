"""The boilerplate rules: what goes, what stays."""

from __future__ import annotations

import pytest

from spacewar_crawler.boilerplate import BoilerplateStripper, is_boilerplate

ARTICLE = "China said Thursday it was ready to expand cooperation."


def clean(*paragraphs: str) -> list[str]:
    return BoilerplateStripper().clean_paragraphs(list(paragraphs))


@pytest.mark.parametrize(
    "furniture",
    [
        "Subscribe Free To Our Daily Newsletters",
        "Tweet",
        "Tweet Share this article via these social bookmark links Email This Article",
        "Comment using your Disqus, Facebook, Google or Twitter login.",
        "The following news reports may link to other Space Media Network websites.",
        "Advertisement",
        "read more",
        "Thanks for being here; We need your help. The SpaceDaily news network continues to grow.",
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
