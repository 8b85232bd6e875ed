"""The boilerplate rules: what every Space Media Network page carries that is not the article.

Rules match a whole paragraph in the network's own wording, so an article paragraph that
merely talks about copyright, newsletters or the GDPR is kept.
"""

from __future__ import annotations

import re

from spacewar_crawler.page_text import normalize_space

# Widget and prompt phrases: a paragraph made of nothing but these is page furniture.
FURNITURE_PHRASES = (
    "Subscribe Free To Our Daily Newsletters",
    "Subscribe Free To Our Daily Newsletter",
    "Tweet",
    "Share this article via these social bookmark links",
    "Email This Article",
    "Comment using your Disqus, Facebook, Google or Twitter login.",
    "Comment using your Disqus, Facebook, Google or Twitter login",
    "The following news reports may link to other Space Media Network websites.",
    "read more",
    "Advertisement",
    "Advertising",
    "Sponsored Content",
    "credit card or paypal",
)
_FURNITURE = re.compile(
    "|".join(re.escape(p) for p in sorted(FURNITURE_PHRASES, key=len, reverse=True)),
    re.IGNORECASE,
)
_LEFTOVER = re.compile(r"^[\W_]*$")

# Paragraphs that are boilerplate on their own.
_PARAGRAPH_RULES = (
    re.compile(r"^Thanks for being (?:here|there);", re.IGNORECASE),
    re.compile(r"^\w+ (?:Monthly Supporter|Contributor) \$\d+\+? Billed (?:Monthly|Once)$", re.IGNORECASE),
)

# Paragraphs where the article is over: everything from them on is boilerplate.
_END_RULES = (
    re.compile(r"^Related Links$", re.IGNORECASE),
    re.compile(r"^RELATED CONTENT$", re.IGNORECASE),
    re.compile(r"^The content herein, unless otherwise known to be public domain", re.IGNORECASE),
    re.compile(r"^General Data Protection Regulation \(GDPR\) Statement Our advertisers", re.IGNORECASE),
)


def ends_article(paragraph: str) -> bool:
    """True for the first block after an article: 'Related Links', copyright notice, ..."""
    text = normalize_space(paragraph)
    return any(rule.search(text) for rule in _END_RULES)


def is_boilerplate(paragraph: str) -> bool:
    """True for a paragraph that is page furniture rather than article text."""
    text = normalize_space(paragraph)
    if not text:
        return True
    if ends_article(text) or any(rule.search(text) for rule in _PARAGRAPH_RULES):
        return True
    return bool(_LEFTOVER.match(_FURNITURE.sub("", text)))


class BoilerplateStripper:
    """Removes the network's boilerplate from an article body and normalizes its whitespace."""

    def clean_paragraphs(self, paragraphs: list[str]) -> list[str]:
        kept: list[str] = []
        for paragraph in paragraphs:
            text = normalize_space(paragraph)
            if ends_article(text):
                break
            if not is_boilerplate(text):
                kept.append(text)
        return kept

    def clean_body(self, body: str) -> str:
        """A body of paragraphs separated by blank lines, cleaned the same way."""
        return "\n\n".join(self.clean_paragraphs(re.split(r"\n\s*\n", body)))
