"""Expand the test mirror into a large local site, deterministically from a seed.

The 32 hand-made mirror pages stay as they are; N more articles are made from them (each
keeps its template's markup era and boilerplate, with new title, URL, dateline and a body
of 6-20 paragraphs), filed over 8 sections whose listing pages hold 50 links each and
link to their older pages.

Pages are padded to 30-60 KB the way the network's pages are heavy: inline ad-tag scripts
in the head, ad slots, and a column of links to the sister sites' sections. `body_padding`
pads with article paragraphs instead (bodies of 25-55 KB): a stress case for extraction.
"""

from __future__ import annotations

import argparse
import html
import json
import random
import re
import shutil
from pathlib import Path

MIRROR = Path(__file__).resolve().parent.parent / "tests" / "mirror"
SECTIONS = [
    ("Superpowers", "Superpowers"),
    ("Nuclear Weapons", "Nuclear_Weapons"),
    ("Missile Defense", "Missile_Defense"),
    ("Military Space", "Military_Space"),
    ("Military Technology", "Military_Technology"),
    ("Cyber Wars", "Cyber_Wars"),
    ("Air Defense", "Air_Defense"),
    ("Naval Warfare", "Naval_Warfare"),
]
PLACES = ["Washington", "Beijing", "Moscow", "Tokyo", "Paris", "London, UK", "Seoul", "Huntsville, Ala.", "Berlin"]
AGENCIES = ["AFP", "UPI", "SPX", "IANS", "Sputnik", "AP", "ESA"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
WORDS = [
    "satellite", "missile", "defense", "radar", "launch", "orbit", "interceptor", "treaty", "nuclear", "warhead",
    "navy", "fleet", "drone", "ministry", "officials", "said", "program", "system", "test", "contract", "budget",
    "agency", "pentagon", "army", "force", "space", "sensor", "command", "alliance", "exercise", "border",
    "strategic", "deterrence", "surveillance", "hypersonic", "cruise", "ballistic",
]  # fmt: skip
PER_LISTING = 50
SISTER_SITES = ["spacedaily", "terradaily", "marsdaily", "energy-daily", "gpsdaily", "spacemart", "sinodaily"]
SISTER_SECTIONS = ["Launch_Pad", "Space_Industry", "Satellite_News", "Earth_Observation", "Energy_News", "Robotics"]


def sentence(rng: random.Random) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(12, 24))]
    return " ".join(words).capitalize() + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng) for _ in range(rng.randint(2, 4)))


def nav_links(style: str) -> str:
    if style == "A":
        cells = ['<td><a href="/index.html">Home</a></td>']
        cells += [f'<td><a href="/{slug}.html">{name}</a></td>' for name, slug in SECTIONS]
        return '<table class="nav" cellpadding="2"><tr>' + "".join(cells) + "</tr></table>"
    if style == "B":
        items = ['<li><a href="/index.html">Home</a></li>']
        items += [f'<li><a href="/{slug}.html">{name}</a></li>' for name, slug in SECTIONS]
        return '<nav class="navbar"><ul>' + "".join(items) + "</ul></nav>"
    links = ['<a href="/index.html">Home</a>'] + [f'<a href="/{slug}.html">{name}</a>' for name, slug in SECTIONS]
    return '<div id="menu">' + " | ".join(links) + "</div>"


NAV = {
    "A": re.compile(r'<table class="nav".*?</table>', re.S),
    "B": re.compile(r'<nav class="navbar">.*?</nav>', re.S),
    "C": re.compile(r'<div id="menu">.*?</div>', re.S),
}


def style_of(page: str) -> str:
    return "B" if '<nav class="navbar">' in page else "A" if '<table class="nav"' in page else "C"


def with_nav(page: str) -> str:
    style = style_of(page)
    return NAV[style].sub(lambda _: nav_links(style), page, count=1)


def ad_script(rng: random.Random, size: int) -> str:
    lines = ["<script>window.googletag = window.googletag || {cmd: []};"]
    while sum(map(len, lines)) < size:
        n = rng.randint(1000, 9999)
        lines.append(
            f"googletag.cmd.push(function() {{ googletag.defineSlot('/2110/smn_{n}', [[300, 250], [336, 280]], "
            f"'div-gpt-ad-{n}').setTargeting('pos', '{rng.choice(WORDS)}').addService(googletag.pubads()); }});"
        )
    return "\n".join(lines) + "</script>\n"


def sister_column(rng: random.Random, size: int) -> str:
    links: list[str] = []
    while sum(map(len, links)) < size:
        site, section = rng.choice(SISTER_SITES), rng.choice(SISTER_SECTIONS)
        links.append(f'<li><a href="https://www.{site}.com/{section}.html">{site} {section.replace("_", " ")}</a></li>')
    return '<div class="smn-column"><ul>' + "".join(links) + "</ul></div>\n"


def pad(page: str, rng: random.Random, target: int) -> str:
    """Page furniture up to `target` bytes: head scripts, an ad slot, a sister-site column."""
    missing = max(target - len(page), 0)
    head = ad_script(rng, missing * 6 // 10)
    image = '<img src="/ads/slot.gif" width="300" height="250">'
    slot = f'<div class="ad-slot">{ad_script(rng, missing // 10)}{image}</div>\n'
    tail = slot + sister_column(rng, missing - len(head) - len(slot))
    return page.replace("</head>", head + "</head>", 1).replace("</body>", tail + "</body>", 1)


def make_article(
    template: str, expected: dict, rng: random.Random, index: int, section: str, body_padding: bool = False
) -> tuple[str, str]:
    style = style_of(template)
    title = f"{sentence(rng)[:-1][:70]} {index}"
    name = re.sub(r"[^A-Za-z0-9]+", "_", title).strip("_")
    path = f"/reports/{name}_999.html"
    place, agency = rng.choice(PLACES), rng.choice(AGENCIES)
    dateline = f"{place} ({agency}) {rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2005, 2025)}"
    page = template.replace(html.escape(expected["title"]), html.escape(title))
    if expected["dateline"]:
        page = page.replace(html.escape(expected["dateline"]), html.escape(dateline))
    page = page.replace(html.escape(expected["section"].upper()), html.escape(section.upper()))
    target = rng.randint(30_000, 60_000)
    paragraphs = expected["body"].split("\n\n")
    joiner = "<br><br>\n" if style == "A" else "</p>\n<p>"
    generated: list[str] = []
    if body_padding:
        while len(page) + sum(len(p) for p in generated) < target:
            generated.append(html.escape(paragraph(rng)))
    else:
        generated = [html.escape(paragraph(rng)) for _ in range(max(1, rng.randint(6, 20) - len(paragraphs) + 1))]
    for i, original in enumerate(paragraphs):
        replacement = joiner.join(generated) if i == 0 else html.escape(paragraph(rng))
        page = page.replace(html.escape(original), replacement, 1)
    return path, with_nav(page if body_padding else pad(page, rng, target))


def listing_page(section: str, slug: str, links: list[tuple[str, str]], page_no: int, last: bool) -> str:
    teasers = "".join(
        f'<div class="teaser"><h2><a href="{p}">{html.escape(t)}</a></h2><p>{html.escape(t)} ... '
        f'<a href="{p}">read more</a></p></div>\n'
        for p, t in links
    )
    older = "" if last else f'<div class="pager"><a href="/{slug}_{page_no + 1}.html">Older {section} News</a></div>\n'
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>{section} News - SpaceWar.com</title>'
        f'</head>\n<body>\n<header class="site-header"><div class="date">date 2025-05-15</div>'
        f"{nav_links('B')}</header>\n"
        f'<main class="container"><section class="listing">\n<h1 class="section-title">{section}</h1>\n{teasers}{older}'
        '</section></main>\n<footer><div class="newsletter">Subscribe Free To Our Daily Newsletters</div></footer>\n'
        "</body></html>\n"
    )


def generate(out: Path, articles: int, seed: int, body_padding: bool = False) -> dict[str, int]:
    rng = random.Random(seed)
    if out.exists():
        shutil.rmtree(out)
    shutil.copytree(MIRROR / "site", out)
    templates = []
    for expected_file in sorted((MIRROR / "expected").glob("*.json")):
        expected = json.loads(expected_file.read_text(encoding="utf-8"))
        source = MIRROR / "site" / expected["url"].lstrip("/")
        encoding = "cp1252" if b"charset=windows-1252" in source.read_bytes()[:400] else "utf-8"
        templates.append((source.read_text(encoding=encoding), expected, encoding))
    for page in [out / "index.html", *out.glob("*.html")]:
        page.write_text(with_nav(page.read_text(encoding="utf-8")), encoding="utf-8")
    by_section: dict[str, list[tuple[str, str]]] = {slug: [] for _, slug in SECTIONS}
    for _, slug in SECTIONS:  # the mirror's own listings keep their articles
        mirror_listing = MIRROR / "site" / f"{slug}.html"
        if mirror_listing.exists():
            found = re.findall(r'href="(/(?:reports|afp)/[^"#?]+)"[^>]*>(?:<b>)?([^<]+)<', mirror_listing.read_text())
            by_section[slug].extend(dict(found).items())
    total_bytes = 0
    for index in range(articles):
        section, slug = SECTIONS[index % len(SECTIONS)]
        template, expected, encoding = templates[index % len(templates)]
        path, page = make_article(template, expected, rng, index, section, body_padding)
        data = page.encode(encoding, errors="xmlcharrefreplace")
        (out / path.lstrip("/")).write_bytes(data)
        total_bytes += len(data)
        by_section[slug].append((path, path.rsplit("/", 1)[1][:-9].replace("_", " ")))
    listings = 0
    for section, slug in SECTIONS:
        links = by_section[slug]
        pages = [links[i : i + PER_LISTING] for i in range(0, len(links), PER_LISTING)] or [[]]
        for number, chunk in enumerate(pages, 1):
            name = f"{slug}.html" if number == 1 else f"{slug}_{number}.html"
            (out / name).write_text(listing_page(section, slug, chunk, number, number == len(pages)), encoding="utf-8")
            listings += 1
    (out / "robots.txt").write_text("User-agent: *\nDisallow: /cgi-bin/\n")
    mean_bytes = total_bytes // max(articles, 1)
    return {"articles": articles + len(templates), "listings": listings, "mean_page_bytes": mean_bytes}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path)
    parser.add_argument("--articles", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--body-padding", action="store_true", help="pad with article text, not page furniture")
    args = parser.parse_args()
    print(generate(args.out, args.articles, args.seed, args.body_padding))


if __name__ == "__main__":
    main()
