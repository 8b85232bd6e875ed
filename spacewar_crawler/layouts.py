"""The template generations (layouts) the parser knows, each told apart by its markup, never by date.

A layout only names what a page is and gives hints (where the headline is printed); every
field is still read the generic way, by what a reader sees. A page that matches no layout
is read the same way and counted as `layout/unknown`, so a redesign shows up in the stats
before it costs articles.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree
from lxml import html as lxml_html

from spacewar_crawler.page_text import element_text

UNKNOWN = "unknown"


def _has_class(tag: str, name: str) -> str:
    return f"//{tag}[contains(concat(' ', normalize-space(@class), ' '), ' {name} ')]"


@dataclass(frozen=True)
class Layout:
    name: str
    description: str
    markers: tuple[str, ...]
    """XPath expressions that must all match somewhere in the page."""
    headline: str
    """XPath of the elements that print the headline: a hint, used only if the text is also where a reader sees it."""

    def matches(self, root: lxml_html.HtmlElement) -> bool:
        return all(test(root) for test in _xpaths(tuple(f"boolean({m})" for m in self.markers)))

    def headline_texts(self, root: lxml_html.HtmlElement) -> list[str]:
        return [element_text(el) for el in _xpaths((self.headline,))[0](root)]


@cache
def _xpaths(expressions: tuple[str, ...]) -> tuple[etree.XPath, ...]:
    return tuple(etree.XPath(e) for e in expressions)


# Most specific first: the first layout whose markers all match is the page's.
LAYOUTS = (
    Layout(
        "smn-classic",
        "the network's nested-table template as its real pages print it: headline in span.BH14 "
        "(often twice, a print copy first), byline and dateline in span.BDL, main column td[width=400]",
        ("//span[@class='BH14']",),
        "//span[@class='BH14']",
    ),
    Layout(
        "story-article",
        "the 2020s template: an <article class=story> with an h1 headline, div.byline and div.dateline, figures",
        (_has_class("article", "story"),),
        _has_class("article", "story") + "//h1",
    ),
    Layout(
        "table-story",
        "the 2010s table template: td.story, an upper-case span.BX section label, span.storydate byline and dateline "
        "separated by <br>",
        (_has_class("td", "story"), "//span[@class='storydate']"),
        _has_class("td", "story") + "//h1",
    ),
    Layout(
        "wire-div",
        "the wire-copy pages under /afp/: div.wire, headline in div.ttl, the dateline opening the first paragraph",
        ("//div[@class='wire']",),
        "//div[@class='ttl']",
    ),
)
LAYOUT_NAMES = tuple(layout.name for layout in LAYOUTS)


def detect_layout(root: lxml_html.HtmlElement) -> Layout | None:
    """The first known layout whose markers all match, or None (the generic path)."""
    return next((layout for layout in LAYOUTS if layout.matches(root)), None)
