"""The article header as real pages print it: the evidence of SITE.md, read part by part."""

from __future__ import annotations

import pytest

from spacewar_crawler.reading.header import HeaderParts, comparable, piece_bounds, read_header_line
from spacewar_crawler.reading.page_text import normalize_space


def header(pieces: list[str], headline: str = "") -> tuple[HeaderParts, str]:
    """Read one header line made of `pieces` (as the markup divided it); returns the parts and the rest."""
    text = normalize_space("".join(pieces))
    parts = HeaderParts()
    rest = read_header_line(text, piece_bounds(pieces, text), comparable(headline), parts)
    return parts, text[rest:] if rest else text


def summary(parts: HeaderParts) -> tuple:
    dateline = parts.dateline
    return (
        parts.headlines,
        parts.label,
        parts.author,
        dateline.raw if dateline else None,
        dateline.location if dateline else None,
        dateline.agency if dateline else None,
    )


@pytest.mark.parametrize(
    ("pieces", "headline", "expected"),
    [
        (  # spacewar.com, 2023: title, byline and dateline as adjacent elements
            ["US, Japan modernising military alliance: Austin", "by AFP Staff Writers", "Tokyo (AFP) June 1, 2023"],
            "US, Japan modernising military alliance: Austin",
            (1, None, "AFP Staff Writers", "Tokyo (AFP) June 1, 2023", "Tokyo", "AFP"),
        ),
        (  # the same text with the markup lost: words glued together
            ["US, Japan modernising military alliance: Austinby AFP Staff WritersTokyo (AFP) June 1, 2023"],
            "US, Japan modernising military alliance: Austin",
            (1, None, "AFP Staff Writers", "Tokyo (AFP) June 1, 2023", "Tokyo", "AFP"),
        ),
        (
            ["What happens to the human body in deep space?By Issam AHMEDWashington (AFP) Mar 18, 2025"],
            "What happens to the human body in deep space?",
            (1, None, "Issam AHMED", "Washington (AFP) Mar 18, 2025", "Washington", "AFP"),
        ),
        (
            ["A new class of sub-Neptuneby Erica MarchandParis, France (SPX) Mar 17, 2025"],
            "A new class of sub-Neptune",
            (1, None, "Erica Marchand", "Paris, France (SPX) Mar 17, 2025", "Paris, France", "SPX"),
        ),
        (  # headline twice, the section label between the copies
            ["Russia tests Yars", "SUPERPOWERS", "RUSSIA TESTS YARS", "by Staff Writers"],
            "Russia tests Yars",
            (2, "SUPERPOWERS", "Staff Writers", None, None, None),
        ),
        (  # byline and dateline in one text node, a space between them
            ["by Staff Writers Moscow (Sputnik) May 9, 2025"],
            "",
            (0, None, "Staff Writers", "Moscow (Sputnik) May 9, 2025", "Moscow", "Sputnik"),
        ),
        (  # two authors linked one by one stay one byline
            ["by ", "Sarah Moreau", " and ", "David Lindqvist"],
            "",
            (0, None, "Sarah Moreau and David Lindqvist", None, None, None),
        ),
        (  # a dateline with no agency
            ["Manila, Philippines May 11, 2025"],
            "",
            (0, None, None, "Manila, Philippines May 11, 2025", "Manila, Philippines", None),
        ),
    ],
)
def test_header_line_splits_into_headline_label_byline_and_dateline(pieces, headline, expected):
    parts, rest = header(pieces, headline)
    assert (summary(parts), rest) == (expected, "")


def test_dateline_running_on_into_the_text_leaves_the_text():
    parts, rest = header(["Seoul (AFP) May 3, 2025 - South Korea has deployed its first battery"])
    assert (parts.dateline.raw, rest) == ("Seoul (AFP) May 3, 2025", "South Korea has deployed its first battery")


def test_dateline_followed_by_the_text_without_a_dash():
    parts, rest = header(["San Francisco, United States (AFP) Feb 3, 2026 Elon Musk said on Tuesday"])
    assert (parts.dateline.location, rest) == ("San Francisco, United States", "Elon Musk said on Tuesday")


def test_body_paragraph_that_starts_with_the_headline_words_is_no_header():
    parts, rest = header(["Russia tests Yars, the ministry said, from Plesetsk."], "Russia tests Yars")
    assert (summary(parts), rest) == (
        (0, None, None, None, None, None),
        "Russia tests Yars, the ministry said, from Plesetsk.",
    )


def test_sentence_starting_with_by_is_no_byline():
    parts, _ = header(["By the end of the decade the navy will field twelve such vessels, officials said."])
    assert parts.author is None
