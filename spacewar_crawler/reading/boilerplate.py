"""The boilerplate rules: what every Space Media Network page carries that is not the article.

Rules match a whole paragraph in the network's own wording, so an article paragraph that
merely talks about copyright, newsletters or the GDPR is kept.
"""

from __future__ import annotations

import re

from spacewar_crawler.reading.page_text import normalize_space

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
# Longest first, so that "Subscribe ... Newsletters" goes before "... Newsletter".
_FURNITURE_LOWER = tuple(sorted((p.lower() for p in FURNITURE_PHRASES), key=len, reverse=True))
# Long, unmistakable furniture phrases, also removed where broken markup glued them to the
# end of an article paragraph (short ones such as "Tweet" could end a real sentence).
_TRAILING_FURNITURE = (
    *(p.lower().rstrip(".") for p in FURNITURE_PHRASES if len(p.split()) >= 3),
    "... read more",  # a teaser's ending
)
_LONGEST_TRAILING = max(map(len, _TRAILING_FURNITURE))
# No paragraph made of furniture phrases alone is longer than all of them together.
_MAX_FURNITURE_LENGTH = sum(len(p) + 1 for p in FURNITURE_PHRASES)
# The network's notices and block headings, wherever they start: the article is over there.
_NOTICE_START = re.compile(
    r"(?i:The content herein, unless otherwise known to be public domain)"
    r"|(?i:General Data Protection Regulation \(GDPR\) Statement Our advertisers)"
    r"|(?i:Thanks for being (?:here|there); We need your help)"
    r"|RELATED CONTENT|Related Links\b"
)
_NOTICE_MARKERS = ("content herein", "(gdpr) statement", "thanks for being", "related content", "related links")

# Paragraphs that are boilerplate on their own.
_PARAGRAPH_RULE = re.compile(
    r"^(?:Thanks for being (?:here|there);"
    r"|\w+ (?:Monthly Supporter|Contributor) \$\d+\+? Billed (?:Monthly|Once)$)",
    re.IGNORECASE,
)
# Paragraphs where the article is over: everything from them on is boilerplate.
_END_RULE = re.compile(
    r"^(?:Related Links$|RELATED CONTENT$"
    r"|The content herein, unless otherwise known to be public domain"
    r"|General Data Protection Regulation \(GDPR\) Statement Our advertisers)",
    re.IGNORECASE,
)
# Blocks that follow the article text, but on some layouts also stand above it: they end
# the article only once some article text has been seen.
_TRAILER_RULE = re.compile(
    r"^(?:Subscribe Free To Our Daily Newsletters?$|Thanks for being (?:here|there);|Comment using your Disqus)",
    re.IGNORECASE,
)
_END_OR_TRAILER_RULE = re.compile(f"{_END_RULE.pattern}|{_TRAILER_RULE.pattern}", re.IGNORECASE)
# A paragraph made of furniture phrases and punctuation only; it fails on the first other word.
_FURNITURE_ONLY = re.compile(
    r"(?:[\W_]*(?:" + "|".join(map(re.escape, _FURNITURE_LOWER)) + r"))*[\W_]*", re.IGNORECASE
)


def ends_article(paragraph: str, *, after_text: bool = True) -> bool:
    """True for the first block after an article: 'Related Links', copyright notice, ...

    `after_text`: whether article text came before it (newsletter prompts and the like
    only end an article that has begun).
    """
    return bool((_END_OR_TRAILER_RULE if after_text else _END_RULE).match(paragraph))


def is_boilerplate(text: str) -> bool:
    """True for a (whitespace-normalized) paragraph that is page furniture rather than article text."""
    if not text:
        return True
    if ends_article(text) or _PARAGRAPH_RULE.match(text):
        return True
    if len(text) > _MAX_FURNITURE_LENGTH:
        return False
    return bool(_FURNITURE_ONLY.fullmatch(text))


def _has_notice(text: str) -> bool:
    # A plain substring test: the regex scan costs more on every long paragraph.
    lowered = text.lower()
    return any(marker in lowered for marker in _NOTICE_MARKERS)


def _strip_trailing_furniture(text: str) -> str:
    while True:
        tail = text.rstrip(" .!?:;,\u2026")
        ending = tail[-_LONGEST_TRAILING:].lower()
        if not ending.endswith(_TRAILING_FURNITURE):  # one C-level test for the common case
            return text.strip()
        phrase = next(p for p in _TRAILING_FURNITURE if ending.endswith(p))
        text = tail[: len(tail) - len(phrase)].rstrip()
        if phrase.startswith("..."):
            text += "..."  # the teaser's ellipsis belongs to its text


class BoilerplateStripper:
    """Removes the network's boilerplate from an article body and normalizes its whitespace."""

    def clean_paragraphs(self, paragraphs: list[str]) -> list[str]:
        kept: list[str] = []
        normalized = [normalize_space(paragraph) for paragraph in paragraphs]
        # One test over the whole body; most bodies carry no notice at all.
        notices = _has_notice("\n".join(normalized))
        for text in normalized:
            if ends_article(text, after_text=bool(kept)):
                break
            notice = _NOTICE_START.search(text) if notices and _has_notice(text) else None
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
