"""The template generations (layouts) the parser knows, each told apart by its markup, never by date.

A layout only names what a page is and gives hints (where the headline is printed); every
field is still read the generic way, by what a reader sees. A page that matches no layout
is read the same way and counted as `layout/unknown`, so a redesign shows up in the stats
before it costs articles.
"""

from __future__ import annotations

from dataclasses import dataclass

from lxml import html as lxml_html

from spacewar_crawler.reading.page_text import element_text

UNKNOWN = "unknown"


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    markers: tuple[tuple[str, str], ...]
    """(tag, class) pairs that must all be somewhere in the page."""
    headline: tuple[str, str, str | None]
    """(tag, class, descendant tag) of the element that prints the headline: a hint, used only if the text is also
    where a reader sees it."""

    def matches(self, classes: frozenset[tuple[str, str]]) -> bool:
        return all(marker in classes for marker in self.markers)

    def headline_texts(self, elements: list[lxml_html.HtmlElement]) -> list[str]:
        """The headline texts the hint points at, among the page's elements with a class."""
        tag, name, inner = self.headline
        found = []
        for el in elements:
            if el.tag == tag and name in (el.get("class") or "").split():
                found.extend(element_text(e) for e in (el.iter(inner) if inner else [el]))
        return found


# Most specific first: the first layout whose markers all match is the page's.
LAYOUTS = (
    Layout(
        "smn-classic",
        "the network's nested-table template as its real pages print it: headline in span.BH14 "
        "(often twice, a print copy first), byline and dateline in span.BDL, main column td[width=400]",
        (("span", "BH14"),),
        ("span", "BH14", None),
    ),
    Layout(
        "story-article",
        "the 2020s template: an <article class=story> with an h1 headline, div.byline and div.dateline, figures",
        (("article", "story"),),
        ("article", "story", "h1"),
    ),
    Layout(
        "table-story",
        "the 2010s table template: td.story, an upper-case span.BX section label, span.storydate byline and dateline "
        "separated by <br>",
        (("td", "story"), ("span", "storydate")),
        ("td", "story", "h1"),
    ),
    Layout(
        "wordpress-blocks",
        "a WordPress block theme: h1.wp-block-post-title, div.wp-block-post-content (which also has WordPress's "
        "entry-content class: before `wordpress`)",
        (("div", "wp-block-post-content"),),
        ("h1", "wp-block-post-title", None),
    ),
    Layout(
        "wordpress",
        "a WordPress theme (the network's sites from 2026): h1.entry-title, div.entry-content, JSON-LD NewsArticle",
        (("div", "entry-content"),),
        ("h1", "entry-title", None),
    ),
    Layout(
        "wire-div",
        "the wire-copy pages under /afp/: div.wire, headline in div.ttl, the dateline opening the first paragraph",
        (("div", "wire"),),
        ("div", "ttl", None),
    ),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)


def detect_layout(elements: list[lxml_html.HtmlElement]) -> Layout | None:
    """The first known layout whose markers are all among `elements` (the page's elements with a class), or None
    (the generic path)."""
    classes = frozenset((el.tag, name) for el in elements for name in (el.get("class") or "").split())
    return next((layout for layout in LAYOUTS if layout.matches(classes)), None)
