"""Property tests: mutated mirror pages never break the parser or let boilerplate into a body."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spacewar_crawler.reading.article import ArticleItem, RejectedPage
from spacewar_crawler.reading.pages import extract_article
from tests.mirror_site import EXPECTED, SITE

ARTICLE_PAGES = sorted(str(p.relative_to(SITE)) for p in [*SITE.glob("reports/*.html"), *SITE.glob("afp/*.html")])
FIELDS = {field.name for field in dataclasses.fields(ArticleItem)}
BOILERPLATE = (
    "The content herein",
    "GDPR) Statement",
    "Subscribe Free To Our Daily",
    "Thanks for being here",
    "Monthly Supporter",
    "Disqus",
    "social bookmark",
    "Email This Article",
    "RELATED CONTENT",
    "read more",
)
SOURCES = {path: (SITE / path).read_bytes() for path in ARTICLE_PAGES}
assert len(SOURCES) == len(list(EXPECTED.glob("*.json")))


@st.composite
def mutated_pages(draw: st.DrawFn) -> tuple[str, bytes, str]:
    path = draw(st.sampled_from(ARTICLE_PAGES))
    html = SOURCES[path]
    kind = draw(st.sampled_from(["truncate", "cut", "insert", "unclass", "upper", "repeat"]))
    if kind == "truncate":
        html = html[: draw(st.integers(0, len(html)))]
    elif kind == "cut":
        start = draw(st.integers(0, len(html)))
        html = html[:start] + html[start + draw(st.integers(1, 400)) :]
    elif kind == "insert":
        at = draw(st.integers(0, len(html)))
        text = draw(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60))
        html = html[:at] + text.encode("utf-8") + html[at:]
    elif kind == "unclass":
        html = re.sub(rb'\s(?:class|id)="[^"]*"', b"", html)
    elif kind == "upper":
        html = re.sub(rb"</?[a-z][a-z0-9]*", lambda m: m.group(0).upper(), html)
    else:
        paragraphs = re.findall(rb"<p>.*?</p>", html, re.S) or [b"<br><br>"]
        chosen = draw(st.sampled_from(paragraphs))
        html = html.replace(chosen, chosen * 2, 1)
    return path, html, kind


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_pages())
def test_mutated_page_parses_to_the_documented_fields_without_boilerplate(case):
    path, html, _kind = case
    result = extract_article(html, "http://127.0.0.1:8000/" + path).result
    if isinstance(result, RejectedPage):
        assert result.reason in ("missing_title", "missing_body", "not_an_article: the page lists articles")
        return
    fields = vars(result)
    assert set(fields) == FIELDS
    for name in FIELDS - {"images", "related", "related_links", "warnings", "aliases", "warc_offset"}:
        assert fields[name] is None or isinstance(fields[name], str), name
    for name in ("images", "related", "related_links", "warnings", "aliases"):
        assert isinstance(fields[name], list)
    leaked = [phrase for phrase in BOILERPLATE if phrase in result.body]
    assert leaked == []


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_parse_without_raising(content):
    result = extract_article(content, "http://127.0.0.1:8000/reports/x_999.html").result
    assert isinstance(result, ArticleItem | RejectedPage)
