"""The items the spider yields: clean articles, and pages that could not become one."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass
class ArticleItem:
    """One article, with the field names of INTERFACE.md (and of the MongoDB document)."""

    url: str
    site: str | None = None
    section: str | None = None
    section_slug: str | None = None
    title: str | None = None
    author: str | None = None
    dateline: str | None = None
    location: str | None = None
    agency: str | None = None
    published: str | None = None
    body: str | None = None
    images: list[dict[str, str | None]] = field(default_factory=list)
    related: list[dict[str, str]] = field(default_factory=list)
    related_links: list[dict[str, str]] = field(default_factory=list)
    content_hash: str | None = None
    fetched_at: str | None = None
    warc_file: str | None = None
    """Where the fetched page is kept (WARC_DIR), and the offset of its response record."""
    warc_offset: int | None = None
    layout: str | None = None
    """The page layout the article was read with (`unknown`: the generic path); see layouts.py."""
    warnings: list[str] = field(default_factory=list)
    """What extraction noticed (no byline, date from a fallback, ...); see quality.WARNINGS."""
    modified: str | None = None
    """When the site says the article last changed (WordPress: dateModified), ISO 8601 as printed; None if it does
    not say."""
    aliases: list[str] = field(default_factory=list)
    """The article's other URLs: those that redirected to `url` (a move to new URLs), canonical form."""


# Kinds of reject: why a fetched (or re-read) page is not an article.
FETCH_FAILED = "fetch_failed"
NOT_HTML = "not_html"
NOT_AN_ARTICLE = "not_an_article"
MISSING_TITLE = "missing_title"
MISSING_BODY = "missing_body"
PARSE_ERROR = "parse_error"
ORIGINAL_UNREADABLE = "original_unreadable"
OFFSITE_REDIRECT = "offsite_redirect"
TOO_LARGE_TO_STORE = "too_large_to_store"


@dataclass
class RejectedPage:
    """A page that did not become an article: its kind of failure, decided once where it happened, and why."""

    url: str
    kind: str
    detail: str = ""
    """What a person reads: the HTTP status, the exception, what the page lacked."""
    status: int | None = None
    """The HTTP status, when the site answered."""
    lasting: bool = False
    """Whether the next run would meet the same failure (a 404, a redirect loop), or it may pass (a 503, a timeout)."""

    @property
    def reason(self) -> str:
        return f"{self.kind}: {self.detail}" if self.detail else self.kind


def content_hash(title: str, body: str) -> str:
    """sha256 of the article text; changes only when the title or the body changes."""
    return hashlib.sha256(f"{title}\n\n{body}".encode()).hexdigest()
