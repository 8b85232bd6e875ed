"""A page as a reader sees it: the ordered text blocks of an HTML document, with their links.

Extraction works on these blocks (their order and wording) rather than on one tag path, so
that table layouts with `<br>`-separated text and modern div layouts read the same.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field
from typing import NamedTuple

from lxml import etree
from lxml import html as lxml_html
from w3lib.encoding import html_to_unicode

BLOCK_TAGS = frozenset(
    [
        "address",
        "article",
        "aside",
        "blockquote",
        "body",
        "center",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "thead",
        "tfoot",
        "tr",
        "td",
        "th",
        "ul",
        "caption",
    ]
)
SKIP_TAGS = frozenset(
    ["script", "style", "noscript", "template", "head", "iframe", "object", "svg", "select", "textarea"]
)
_SINGLE_BYTE = frozenset({"cp1252", "iso8859-1", "latin-1", "iso8859-15"})
# Characters lxml refuses (NUL, other C0 controls); they carry no text.
_XML_INCOMPATIBLE_CHARS = (*map(chr, [*range(0x09), 0x0B, 0x0C, *range(0x0E, 0x20)]), "\ufffe", "\uffff")
_XML_INCOMPATIBLE = re.compile(f"[{re.escape(''.join(_XML_INCOMPATIBLE_CHARS))}]")
# "short-\n range": a word the source wrapped after its hyphen, joined again.
_LINE_BREAK_HYPHEN = re.compile(r"(?<=[^\W\d_])-[ \t]*\r?\n\s*(?=\w)")
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\ufeff"))


def normalize_space(text: str) -> str:
    """Runs of whitespace (NBSP included) become one space; zero-width characters go."""
    if not text.isascii():  # ASCII text (the common case) skips the slow translate
        text = text.translate(_ZERO_WIDTH)
    return " ".join(text.split())


class Link(NamedTuple):  # a tuple: a page makes dozens, and a dataclass costs three times as much to make
    href: str
    text: str
    element: lxml_html.HtmlElement


class Image(NamedTuple):
    src: str
    element: lxml_html.HtmlElement
    position: int
    """Index of the first text block after the image."""


@dataclass(slots=True)
class Block:
    text: str
    """Normalized: single spaces, no zero-width characters."""
    element: lxml_html.HtmlElement
    """The element whose own text (or tail) opened the block."""
    links: list[Link] = field(default_factory=list)
    parts: list[str] = field(default_factory=list)
    """The raw text pieces the block was built from, one per text node, where markup divided it (empty: one)."""


def decode_html(content: str | bytes, content_type: str | None = None) -> str:
    """Text of a page from its bytes, honouring the HTTP charset, a BOM or a meta charset.

    Pages that lie about their charset are common on old sites: bytes that are not valid
    in the declared charset are read as UTF-8 or windows-1252, whichever fits, and UTF-8
    bytes declared as a single-byte charset are read as UTF-8 (not as mojibake).
    """
    if isinstance(content, str):
        return _without_xml_incompatible(content)
    encoding, text = html_to_unicode(content_type, content)
    if "\ufffd" in text or (codecs.lookup(encoding).name in _SINGLE_BYTE and not content.isascii()):
        for alternative in ("utf-8", "cp1252"):
            try:
                text = content.decode(alternative)
                break
            except UnicodeDecodeError:
                continue
    return _without_xml_incompatible(text)


def _without_xml_incompatible(text: str) -> str:
    # Substring tests first: a regex scan of a 50 KB page costs ~0.5 ms, these ~25 us.
    if any(char in text for char in _XML_INCOMPATIBLE_CHARS):
        return _XML_INCOMPATIBLE.sub("", text)
    return text


_XML_DECLARATION = re.compile(r"^\s*<\?xml[^>]*>")
_PARSER = etree.HTMLParser(remove_comments=True, remove_pis=True)


def parse_document(content: str | bytes, content_type: str | None = None) -> lxml_html.HtmlElement:
    text = decode_html(content, content_type)
    # lxml refuses str input that carries an XML encoding declaration.
    if text.lstrip()[:5] == "<?xml":
        text = _XML_DECLARATION.sub("", text, count=1)
    # lxml.etree's own HTML parser: plain elements, looked up in C. lxml.html's element classes cost a Python
    # call for every element the code touches, about a tenth of the time spent reading a page.
    try:
        root = etree.fromstring(text, _PARSER) if text.strip() else None
    except etree.XMLSyntaxError:  # nothing an HTML parser can hold
        root = None
    return root if root is not None else etree.fromstring("<html><body></body></html>", _PARSER)


def element_text(el: lxml_html.HtmlElement) -> str:
    """All text inside `el` (not its tail): text_content(), without its per-call XPath (3x faster)."""
    return etree.tostring(el, method="text", encoding=str, with_tail=False)


def subtree_elements(roots: list[lxml_html.HtmlElement]) -> set[lxml_html.HtmlElement]:
    """Every element inside any of `roots` (roots included): for one membership test per block."""
    inside: set[lxml_html.HtmlElement] = set()
    for root in roots:
        if root not in inside:
            inside.update(root.iter())
    return inside


class PageText(NamedTuple):
    blocks: list[Block]
    images: list[Image]
    marked: list[lxml_html.HtmlElement]
    """The elements that can mark navigation, ads or captions (by tag, class or id), in document order."""


_MARK_TAGS = frozenset({"nav", "aside", "figcaption"})


def _read_blocks(body: lxml_html.HtmlElement) -> PageText:
    """The hot loop of page reading: one pass over `body`, its state in locals.

    lxml's HTML parser gives lower-case tag names; comments and processing instructions
    have a non-str tag. Text is collected into the open block's parts; a block boundary
    (a block tag's start or end, a <br>) closes the block, and a link counts for the
    block in which text follows it.
    """
    blocks: list[Block] = []
    images: list[Image] = []
    marked: list[lxml_html.HtmlElement] = []  # gathered on the way: cheaper than an XPath pass of its own
    parts: list[str] = []
    opener: lxml_html.HtmlElement | None = None  # the element whose text opened the pending block
    links: list[Link] = []
    pending_links: list[Link] = []

    def flush() -> None:
        nonlocal opener, links
        raw = "".join(parts)
        if "-\n" in raw or "- \n" in raw:
            raw = _LINE_BREAK_HYPHEN.sub("-", raw)
        text = normalize_space(raw)
        if text and opener is not None:
            blocks.append(Block(text, opener, links, parts.copy() if len(parts) > 1 else []))
            links = []
        parts.clear()
        opener = None

    walker = etree.iterwalk(body, events=("start", "end"))
    skip = walker.skip_subtree
    for event, el in walker:
        tag = el.tag
        if event == "start":
            if tag in SKIP_TAGS or not isinstance(tag, str):
                skip()
                continue
            if tag in _MARK_TAGS or el.get("class") is not None or el.get("id") is not None:
                marked.append(el)
            if parts and (tag in BLOCK_TAGS or tag == "br"):
                flush()
            if tag == "a":
                href = el.get("href")
                link_text = normalize_space(element_text(el)) if href else ""
                if link_text:
                    pending_links.append(Link(href, link_text, el))
            elif tag == "img":
                src = el.get("src")
                if src:
                    has_text = any(not p.isspace() for p in parts)
                    images.append(Image(src, el, len(blocks) + (1 if has_text else 0)))
            text, holder = el.text, el
        else:
            if parts and tag in BLOCK_TAGS:
                flush()
            text = el.tail
            if not text or el is body:
                continue
            holder = el.getparent()
            if holder is None:
                continue
        if not text:
            continue
        if opener is None:
            if text.isspace():
                continue
            opener = holder
        parts.append(text)
        if pending_links and not text.isspace():
            links.extend(pending_links)
            pending_links = []
    if parts:
        flush()
    return PageText(blocks, images, marked)


def text_blocks(root: lxml_html.HtmlElement) -> PageText:
    """The document's text blocks in reading order, its images with their positions, and its marked elements."""
    body = root.find("body")
    if body is None:
        body = root
    return _read_blocks(body)
