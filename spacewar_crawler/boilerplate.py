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
# Long, unmistakable furniture phrases, also removed where broken markup glued them to the
# end of an article paragraph (short ones such as "Tweet" could end a real sentence).
_TRAILING_FURNITURE = (
    *(p.lower().rstrip(".") for p in FURNITURE_PHRASES if len(p.split()) >= 3),
    "... read more",  # a teaser's ending
)
# No paragraph made of furniture phrases alone is longer than all of them together.
_MAX_FURNITURE_LENGTH = sum(len(p) + 1 for p in FURNITURE_PHRASES)
# The network's notices and block headings, wherever they start: the article is over there.
_NOTICE_START = re.compile(
    r"(?i:The content herein, unless otherwise known to be public domain)"
    r"|(?i:General Data Protection Regulation \(GDPR\) Statement Our advertisers)"
    r"|(?i:Thanks for being (?:here|there); We need your help)"
    r"|RELATED CONTENT|Related Links\b"
)

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
# Blocks that follow the article text, but on some layouts also stand above it: they end
# the article only once some article text has been seen.
_TRAILER_RULES = (
    re.compile(r"^Subscribe Free To Our Daily Newsletters?$", re.IGNORECASE),
    re.compile(r"^Thanks for being (?:here|there);", re.IGNORECASE),
    re.compile(r"^Comment using your Disqus", re.IGNORECASE),
)


def ends_article(paragraph: str, *, after_text: bool = True) -> bool:
    """True for the first block after an article: 'Related Links', copyright notice, ...

    `after_text`: whether article text came before it (newsletter prompts and the like
    only end an article that has begun).
    """
    text = normalize_space(paragraph)
    rules = _END_RULES + _TRAILER_RULES if after_text else _END_RULES
    return any(rule.search(text) for rule in rules)


def is_boilerplate(paragraph: str) -> bool:
    """True for a paragraph that is page furniture rather than article text."""
    text = normalize_space(paragraph)
    if not text:
        return True
    if ends_article(text) or any(rule.search(text) for rule in _PARAGRAPH_RULES):
        return True
    return len(text) <= _MAX_FURNITURE_LENGTH and bool(_LEFTOVER.match(_FURNITURE.sub("", text)))


def _strip_trailing_furniture(text: str) -> str:
    stripped = True
    while stripped:
        stripped = False
        tail = text.rstrip(" .!?:;,\u2026").lower()
        for phrase in _TRAILING_FURNITURE:
            if tail.endswith(phrase):
                text = text[: len(tail) - len(phrase)].rstrip()
                if phrase.startswith("..."):
                    text += "..."  # the teaser's ellipsis belongs to its text
                stripped = True
                break
    return text.strip()


class BoilerplateStripper:
    """Removes the network's boilerplate from an article body and normalizes its whitespace."""

    def clean_paragraphs(self, paragraphs: list[str]) -> list[str]:
        kept: list[str] = []
        for paragraph in paragraphs:
            text = normalize_space(paragraph)
            if ends_article(text, after_text=bool(kept)):
                break
            notice = _NOTICE_START.search(text)
            if notice and notice.start() == 0 and not kept and not ends_article(text, after_text=False):
                continue  # a trailer standing above the article: dropped, the article has not begun
            text = _strip_trailing_furniture(text[: notice.start()] if notice else text)
            if not is_boilerplate(text):
                kept.append(text)
            if notice:
                break
        return kept

    def clean_body(self, body: str) -> str:
        """A body of paragraphs separated by blank lines, cleaned the same way."""
        return "\n\n".join(self.clean_paragraphs(re.split(r"\n\s*\n", body)))
