"""Which generation of the network's software a site serves, told from its home page.

The classic template (nested tables, section pages /Name.html, articles /reports/..._999.html) and, from 2026,
WordPress (its generator meta, the /wp-json/ API link, wp-content paths). A home page showing neither is no page
the crawler can walk: the run says what it looked for and fails, instead of finding nothing and saying "finished".
"""

from __future__ import annotations

from dataclasses import dataclass

from spacewar_crawler.reading.pages import SitePage
from spacewar_crawler.site.urls import CLASSIC, WORDPRESS, is_classic_article, is_classic_listing

LOOKED_FOR = (
    "WordPress's generator meta, a /wp-json/ API link or wp-content/wp-includes paths; the classic template's "
    "section pages (/Name.html) or /reports/ and /afp/ article links"
)
_WP_PATHS = ("/wp-content/", "/wp-includes/", "/wp-json/")
_MIN_SECTIONS = 3


@dataclass(frozen=True)
class Generation:
    name: str | None
    """CLASSIC, WORDPRESS, or None: it cannot be told."""
    evidence: tuple[str, ...]
    """What was seen, as a person reads it ("generator meta 'WordPress 6.7.1'")."""


def detect_generation(home: SitePage) -> Generation:
    """WordPress where any of its marks is on the page (a site that moved may still link its old URLs), else the
    classic template where its section pages or article links are, else None."""
    wordpress = _wordpress_evidence(home)
    if wordpress:
        return Generation(WORDPRESS, tuple(wordpress))
    classic = _classic_evidence(home)
    if classic:
        return Generation(CLASSIC, tuple(classic))
    return Generation(None, ())


def _wordpress_evidence(home: SitePage) -> list[str]:
    found = []
    generator = home.meta("generator") or ""
    if generator.lower().startswith("wordpress"):
        found.append(f"generator meta {generator!r}")
    api = next((el.get("href") for el in home.root.iter("link") if el.get("rel") == "https://api.w.org/"), None)
    if api:
        found.append(f"API link {api}")
    paths = {
        path
        for el in home.root.iter("link", "script", "img", "a", "style")
        for value in (el.get("href") or el.get("src") or "",)
        for path in _WP_PATHS
        if path in value and home.urls.is_on_site(home.absolute(value) or "")
    }
    if paths:
        found.append("paths " + ", ".join(sorted(paths)))
    return found


def _classic_evidence(home: SitePage) -> list[str]:
    links = [url for el in home.root.iter("a") if el.get("href") for url in (home.absolute(el.get("href")),) if url]
    sections = sum(1 for url in set(links) if home.urls.is_on_site(url) and is_classic_listing(url))
    articles = sum(1 for url in set(links) if home.urls.is_on_site(url) and is_classic_article(url))
    if not articles and sections < _MIN_SECTIONS:
        return []  # a page or two named like a section is any site's "products.html"
    return [f"{sections} section pages, {articles} classic article links"]
