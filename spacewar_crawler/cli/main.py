"""Command-line interface over the archive: `python -m spacewar_crawler COMMAND --help`.

Exit status: 0 on success (also when nothing matched), 1 on failure, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import csv
import json
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, TextIO
from urllib.parse import urlsplit

from itemadapter import ItemAdapter
from scrapy.settings import Settings
from scrapy.utils.conf import arglist_to_dict
from scrapy.utils.project import get_project_settings

from spacewar_crawler.archive.articles import ArticleQuery
from spacewar_crawler.archive.documents import to_item, utc_now
from spacewar_crawler.archive.errors import ArchiveUnavailable, ArchiveWriteError
from spacewar_crawler.archive.mongo import ArchiveConfig, MongoArchive, connect_archive
from spacewar_crawler.archive.warc import OriginalNotFound, Originals
from spacewar_crawler.reading.article import ORIGINAL_UNREADABLE, RejectedPage
from spacewar_crawler.reading.pages import CrawlHints, ParserOptions, extract_article
from spacewar_crawler.reading.quality import WARNINGS
from spacewar_crawler.site.urls import SiteUrls, slugify

REPLAY_BATCH = 500
_MAX_LIMIT = 2**31 - 1  # what MongoDB takes as a limit, and more than any archive holds


def project_settings(args: argparse.Namespace) -> Settings:
    """The crawl's settings (also from outside the repository root), with `-s NAME=VALUE` applied."""
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "spacewar_crawler.settings")
    settings = get_project_settings()
    try:
        settings.setdict(arglist_to_dict(args.set or []), priority="cmdline")
    except ValueError:
        raise UsageError(f"-s takes NAME=VALUE, got {args.set!r}") from None
    return settings


@contextmanager
def open_archive(args: argparse.Namespace) -> Iterator[MongoArchive]:
    """The archive named by --mongo-uri/--db, else by the crawl's settings and environment."""
    config = ArchiveConfig.from_settings(project_settings(args))
    if args.mongo_uri:
        config = replace(config, uri=args.mongo_uri)
    if args.db:
        config = replace(config, database=args.db)
    archive, embedded = connect_archive(config, log=lambda line: print(line, file=sys.stderr))
    try:
        yield archive
    finally:
        archive.close()
        if embedded is not None:
            embedded.stop()


def _read_spill(path: Path, out: TextIO) -> Iterator[dict[str, Any]]:
    with path.open(encoding="utf-8") as f:
        for number, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                print(f"{path}:{number}: not JSON ({exc.msg}); skipped", file=out)
                continue
            why = _not_an_item(item)
            if why:
                print(f"{path}:{number}: not an article item ({why}); skipped", file=out)
                continue
            yield item


def _not_an_item(item: Any) -> str | None:
    """Why a line of a spill file cannot be an article item, or None: its types are checked before MongoDB sees it."""
    if not isinstance(item, dict):
        return "not an object"
    if not isinstance(item.get("url"), str) or not item["url"].startswith(("http://", "https://")):
        return "url is not an http(s) URL"
    for name in ("published", "fetched_at"):
        value = item.get(name)
        if value is not None:
            try:
                datetime.fromisoformat(str(value).replace("Z", "+00:00"))
            except ValueError:
                return f"{name} is not an ISO date: {str(value)[:40]!r}"
    offset = item.get("warc_offset")
    if offset is not None and (not isinstance(offset, int) or not 0 <= offset < 2**62):
        return f"warc_offset is not a file offset: {str(offset)[:40]!r}"
    if item.get("warc_file") is not None and not isinstance(item["warc_file"], str):
        return "warc_file is not a file name"
    return None


def cmd_replay(args: argparse.Namespace) -> int:
    """Store the items of a spill file; safe to run more than once."""
    path = Path(args.file)
    if not path.is_file():
        print(f"replay: no such file: {path}", file=sys.stderr)
        return 1
    totals = {"new": 0, "changed": 0, "unchanged": 0, "failed": 0}
    with open_archive(args) as archive:
        batch: list[dict[str, Any]] = []
        for item in _read_spill(path, sys.stderr):
            batch.append(item)
            if len(batch) >= REPLAY_BATCH:
                _replay_batch(archive, batch, totals)
                batch = []
        _replay_batch(archive, batch, totals)
    print(
        f"replayed {path}: {totals['new']} new, {totals['changed']} changed, "
        f"{totals['unchanged']} unchanged, {totals['failed']} failed"
    )
    return 1 if totals["failed"] else 0


def _replay_batch(archive: MongoArchive, batch: list[dict[str, Any]], totals: dict[str, int]) -> None:
    if not batch:
        return
    result = archive.articles.upsert_batch(batch)
    totals["new"] += result.new
    totals["changed"] += result.changed
    totals["refreshed"] = totals.get("refreshed", 0) + result.refreshed
    totals["unchanged"] += result.unchanged
    totals["failed"] += len(result.failed)


def _since(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _limit(text: str) -> int:
    if not text.isdigit() or int(text) > _MAX_LIMIT:
        raise argparse.ArgumentTypeError(f"not a whole number from 0 to {_MAX_LIMIT}: {text!r}")
    return int(text)


def _query(args: argparse.Namespace) -> ArticleQuery:
    # A name with no letters or digits has an empty slug: keep the text, which matches no section.
    section = (slugify(args.section) or args.section) if args.section else None
    return ArticleQuery(
        section,
        args.since,
        args.until,
        args.search,
        args.author,
        args.agency,
        warnings=tuple(args.warning) if args.warning else (),
        site=args.site,
        layout=args.layout,
        urls=tuple(args.url or ()),
    )


def _shorten(text: str | None, width: int, *, keep_end: bool = False) -> str:
    text = text or ""
    if len(text) <= width:
        return text.ljust(width)
    return ("\u2026" + text[-(width - 1) :]) if keep_end else (text[: width - 1] + "\u2026")


Writer = Callable[[Iterable[dict[str, Any]], TextIO], None]


@dataclass(frozen=True)
class Column:
    name: str
    width: int
    value: Callable[[dict[str, Any]], str | None]
    keep_end: bool = False


def _path(item: dict[str, Any]) -> str:
    return urlsplit(item.get("url", "")).path


def _warnings(item: dict[str, Any]) -> str:
    return ",".join(item.get("warnings") or [])


QUERY_COLUMNS = (
    Column("date", 10, lambda item: item.get("published")),
    Column("section", 12, lambda item: item.get("section_slug")),
    Column("title", 38, lambda item: item.get("title")),
    Column("author", 14, lambda item: item.get("author")),
    Column("url", 18, _path, keep_end=True),
)
AUDIT_COLUMNS = (
    Column("date", 10, lambda item: item.get("published")),
    Column("layout", 13, lambda item: item.get("layout")),
    Column("warnings", 34, _warnings),
    Column("url", 37, _path, keep_end=True),
)
CSV_FIELDS = (
    "url", "published", "section", "section_slug", "title", "author", "dateline", "location", "agency",
    "site", "body", "content_hash", "fetched_at",
)  # fmt: skip
AUDIT_CSV_FIELDS = ("url", "published", "layout", "warnings", "section_slug", "title", "author", "dateline")


def table_writer(columns: tuple[Column, ...]) -> Writer:
    """One line per article in 100 columns, each cell shortened to its width."""

    def write(items: Iterable[dict[str, Any]], out: TextIO) -> None:
        out.write("  ".join(c.name.upper().ljust(c.width) for c in columns).rstrip() + "\n")
        for item in items:
            cells = (_shorten(c.value(item), c.width, keep_end=c.keep_end) for c in columns)
            out.write("  ".join(cells).rstrip() + "\n")

    return write


def write_jsonl(items: Iterable[dict[str, Any]], out: TextIO) -> None:
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False) + "\n")


def csv_writer(fields: tuple[str, ...]) -> Writer:
    """A header row, then one row per article; lists (warnings) joined by commas."""

    def write(items: Iterable[dict[str, Any]], out: TextIO) -> None:
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for item in items:
            row = {k: "" if item.get(k) is None else item.get(k) for k in fields}
            if "warnings" in row:
                row["warnings"] = _warnings(item)
            writer.writerow(row)

    return write


WRITERS: dict[str, Writer] = {
    "table": table_writer(QUERY_COLUMNS),
    "jsonl": write_jsonl,
    "csv": csv_writer(CSV_FIELDS),
}
AUDIT_WRITERS: dict[str, Writer] = {
    "table": table_writer(AUDIT_COLUMNS),
    "jsonl": write_jsonl,
    "csv": csv_writer(AUDIT_CSV_FIELDS),
}


def cmd_query(args: argparse.Namespace) -> int:
    """Print the matching articles, newest first (or by relevance with --sort relevance)."""
    if args.sort == "relevance" and not args.search:
        print("query: --sort relevance needs --search", file=sys.stderr)
        return 2
    with open_archive(args) as archive:
        docs = archive.articles.find(_query(args), by_relevance=args.sort == "relevance", limit=args.limit)
        WRITERS[args.format]((to_item(doc) for doc in docs), sys.stdout)
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """Stream the archive (or the filtered part) as JSON lines, in URL order."""
    with open_archive(args) as archive:
        write_jsonl((to_item(doc) for doc in archive.articles.find(_query(args), newest_first=False)), sys.stdout)
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one stored article as JSON."""
    with open_archive(args) as archive:
        doc = _find_article(archive, args.url)
    if doc is None:
        print(f"show: not archived: {args.url}", file=sys.stderr)
        return 1
    print(json.dumps(to_item(doc), ensure_ascii=False, indent=2))
    return 0


def cmd_original(args: argparse.Namespace) -> int:
    """Write the stored original HTML of one article to standard output, byte for byte."""
    with open_archive(args) as archive:
        doc = _find_article(archive, args.url)
        if doc is None or not doc.get("warc_file"):
            why = "not archived" if doc is None else "archived without its original (crawled with WARC_ENABLED off)"
            print(f"original: {why}: {args.url}", file=sys.stderr)
            return 1
        originals = _originals(archive, project_settings(args))
    try:
        _, body = originals.read(doc["warc_file"], doc["warc_offset"], doc["url"])
    except (OriginalNotFound, ValueError) as exc:
        print(f"original: {exc}", file=sys.stderr)
        return 1
    sys.stdout.buffer.write(body)
    sys.stdout.buffer.flush()
    return 0


def _originals(archive: MongoArchive, settings: Settings) -> Originals:
    """Where the stored originals are: WARC_DIR, then every directory earlier crawls wrote to."""
    return Originals([Path(settings.get("WARC_DIR")).resolve(), *archive.runs.warc_dirs()])


def cmd_reextract(args: argparse.Namespace) -> int:
    """Parse the stored originals again and store the results through the usual change tracking.

    A page that cannot be read again is counted and recorded in `rejects`; the run goes on, and the
    article keeps what is stored.
    """
    settings = project_settings(args)
    options = ParserOptions.from_settings(settings)
    totals = {"new": 0, "changed": 0, "refreshed": 0, "unchanged": 0, "without original": 0, "failed": 0}
    with open_archive(args) as archive:
        originals = _originals(archive, settings)
        query = _query(args)
        total = archive.articles.count_matching(query)
        batch: list[dict[str, Any]] = []
        rejects: list[dict[str, Any]] = []
        done = 0
        for done, doc in enumerate(archive.articles.find(query, newest_first=False), 1):
            outcome = _reextracted(to_item(doc), originals, options)
            if isinstance(outcome, RejectedPage):
                print(f"\nreextract: {outcome.url}: {outcome.reason}", file=sys.stderr)
                totals["failed"] += 1
                reason = f"reextract: {outcome.reason}"
                rejects.append({"url": outcome.url, "kind": outcome.kind, "reason": reason, "time": utc_now()})
            elif outcome is None:
                totals["without original"] += 1
            else:
                batch.append(outcome)
            if len(batch) >= REPLAY_BATCH:
                _replay_batch(archive, batch, totals)
                batch = []
            print(f"\rre-extracting: {done}/{total}", end="", file=sys.stderr, flush=True)
        _replay_batch(archive, batch, totals)
        archive.rejects.add(rejects)
    if done:
        print(file=sys.stderr)
    print(
        f"re-extracted {done} articles: {totals['changed']} changed, {totals['refreshed']} refreshed, "
        f"{totals['unchanged']} unchanged, "
        f"{totals['without original']} without original, {totals['failed']} failed"
    )
    return 1 if totals["failed"] else 0


def _reextracted(
    stored: dict[str, Any], originals: Originals, options: ParserOptions
) -> dict[str, Any] | RejectedPage | None:
    """The article read again from its original, as an item; a reject when that fails; None without an original."""
    if not stored.get("warc_file"):
        return None
    try:
        content_type, body = originals.read(stored["warc_file"], stored["warc_offset"], stored["url"])
    except (OSError, ValueError) as exc:
        return RejectedPage(stored["url"], ORIGINAL_UNREADABLE, str(exc))
    # What only the crawl knew (the listing's section, the feed's date) is a hint, as it was for the crawl.
    hints = CrawlHints(section=stored.get("section"), published=stored.get("published"))
    item = extract_article(body, stored["url"], content_type, options, hints).result
    if isinstance(item, RejectedPage):
        return RejectedPage(stored["url"], item.kind, item.detail)
    item.url = stored["url"]
    item.fetched_at, item.warc_file, item.warc_offset = stored["fetched_at"], stored["warc_file"], stored["warc_offset"]
    return ItemAdapter(item).asdict()


def cmd_audit(args: argparse.Namespace) -> int:
    """List stored articles that carry extraction warnings (all warnings, or one), newest first."""
    query = replace(_query(args), warnings=tuple(args.warning or WARNINGS))
    with open_archive(args) as archive:
        docs = archive.articles.find(query, limit=args.limit)
        AUDIT_WRITERS[args.format]((to_item(doc) for doc in docs), sys.stdout)
    return 0


def _find_article(archive: MongoArchive, url: str) -> dict[str, Any] | None:
    doc = archive.articles.article(url)
    if doc is None and url.startswith(("http://", "https://")):
        try:
            doc = archive.articles.article(SiteUrls(url).canonical(url))
        except ValueError:  # not a URL that can be archived ("http://[::1"): so not archived
            return None
    return doc


def cmd_stats(args: argparse.Namespace) -> int:
    """Counts per section and per month, and the last crawl runs."""
    query = ArticleQuery(site=args.site)
    with open_archive(args) as archive:
        total = archive.articles.count_matching(query) if args.site else archive.articles.count()
        sections = archive.articles.counts_by_section(query)
        months = archive.articles.counts_by_month(query)
        runs = archive.runs.recent(args.runs)
        sites = archive.sites.all()
    out = sys.stdout
    out.write(f"Articles: {total}\n\nBy section:\n")
    for name, n in sections:
        out.write(f"  {name or '(none)':<28}{n:>7}\n")
    out.write("\nBy month published:\n")
    for month, n in months:
        out.write(f"  {month or '(no date)':<28}{n:>7}\n")
    wanted = (args.site or "").lower().removeprefix("www.")
    shown = [site for site in sites if not wanted or site["_id"] == wanted]
    if shown:
        out.write("\nSites (generation last seen):\n")
        for site in shown:
            seen = f"{site['seen_at']:%Y-%m-%d %H:%M}" if site.get("seen_at") else "?"
            out.write(f"  {site['_id']:<28}{site.get('generation', '?'):<11}{seen}\n")
    out.write(f"\nLast crawl runs ({len(runs)}):\n")
    for run in runs:
        out.write(_run_line(run) + "\n")
    return 0


def _run_line(run: dict[str, Any]) -> str:
    counts = run.get("counts") or {}
    started, finished = run.get("started_at"), run.get("finished_at")
    took = f"{(finished - started).total_seconds():.1f} s" if started and finished else "unfinished"
    args = " ".join(f"{k}={v}" for k, v in (run.get("args") or {}).items() if v is not None and k != "base_url")
    dropped = sum((counts.get("dropped") or {}).values())
    return (
        f"  {started:%Y-%m-%d %H:%M:%S}  {run.get('finish_reason') or 'running?':<18}"
        f"{counts.get('pages', 0):>5} pages {counts.get('articles_new', 0):>5} new "
        f"{counts.get('articles_changed', 0):>4} changed {counts.get('articles_unchanged', 0):>5} unchanged "
        f"{dropped:>4} dropped  {took}  {args}"
    ).rstrip()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="spacewar" if Path(sys.argv[0]).name == "spacewar" else "python -m spacewar_crawler",
        description="Work with the SpaceWar.com archive in MongoDB.",
    )
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--mongo-uri", help="MongoDB URI (default: MONGO_URI, else the embedded stand-in)")
    connection.add_argument("--db", help="database name (default: MONGO_DATABASE, else 'spacewar')")
    connection.add_argument(
        "-s", "--set", action="append", metavar="NAME=VALUE", help="override a setting, as with scrapy crawl -s"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add = partial(commands.add_parser, formatter_class=argparse.RawDescriptionHelpFormatter)

    replay = add(
        "replay", parents=[connection],
        help="store items spilled during a storage outage",
        description="Store the items of a spill file written when MongoDB was unavailable. Idempotent.",
        epilog="example: python -m spacewar_crawler replay data/spill/spill-20261129T090000Z-1a2b3c4d.jsonl",
    )
    replay.add_argument("file", help="the spill file (JSON lines)")
    replay.set_defaults(handler=cmd_replay)

    filters = argparse.ArgumentParser(add_help=False)
    filters.add_argument("--section", help="section slug or display name (e.g. nuclear-weapons)")
    filters.add_argument("--since", type=_since, help="published on or after YYYY-MM-DD")
    filters.add_argument("--until", type=_since, help="published on or before YYYY-MM-DD")
    filters.add_argument("--search", help='text search in title and body: words, "a phrase", -excluded')
    filters.add_argument("--author", help="author contains this text (case-insensitive)")
    filters.add_argument("--agency", help="wire agency, e.g. AFP (case-insensitive)")
    filters.add_argument("--site", help="only this site's articles, by host (www.terradaily.com)")

    query = add(
        "query", parents=[connection, filters],
        help="list archived articles matching filters",
        description="List archived articles, newest first.",
        epilog=(
            "examples:\n"
            "  python -m spacewar_crawler query --section superpowers --since 2025-05-01\n"
            "  python -m spacewar_crawler query --search hypersonic --sort relevance --format jsonl\n"
            "  python -m spacewar_crawler query --author 'Staff Writers' --format csv > staff.csv"
        ),
    )
    query.add_argument("--limit", type=_limit, default=20, help="at most N articles (0: all; default 20)")
    query.add_argument("--format", choices=sorted(WRITERS), default="table", help="output format (default table)")
    query.add_argument("--sort", choices=("newest", "relevance"), default="newest", help="order (relevance: --search)")
    query.set_defaults(handler=cmd_query, warning=None, layout=None, url=None)

    export = add(
        "export", parents=[connection, filters],
        help="stream the archive as JSON lines",
        description="Write the whole archive, or the part matching filters, as JSON lines (constant memory).",
        epilog="examples:\n  python -m spacewar_crawler export > archive.jsonl\n"
        "  python -m spacewar_crawler export --section missile-defense --since 2025-01-01 > md-2025.jsonl",
    )
    export.set_defaults(handler=cmd_export, warning=None, layout=None, url=None)

    show = add(
        "show", parents=[connection],
        help="print one archived article as JSON",
        description="Print one archived article as JSON; exit status 1 if it is not archived.",
        epilog="example:\n  python -m spacewar_crawler show "
        "https://www.spacewar.com/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html",
    )
    show.add_argument("url", help="the article URL (tracking parameters and fragments are ignored)")
    show.set_defaults(handler=cmd_show)

    stats = add(
        "stats", parents=[connection],
        help="counts per section and month, last crawl runs",
        description="Counts per section and per month published, and the last crawl runs.",
        epilog="example:\n  python -m spacewar_crawler stats --runs 5",
    )
    stats.add_argument("--runs", type=_limit, default=10, help="how many recent runs to list (default 10)")
    stats.add_argument("--site", help="count only this site's articles, by host (www.terradaily.com)")
    stats.set_defaults(handler=cmd_stats)

    section_and_date = argparse.ArgumentParser(add_help=False)
    section_and_date.add_argument("--section", help="only this section (slug or display name)")
    section_and_date.add_argument("--since", type=_since, help="only articles published on or after YYYY-MM-DD")
    warning = argparse.ArgumentParser(add_help=False)
    warning.add_argument(
        "--warning",
        action="append",
        choices=sorted(WARNINGS),
        metavar="W",
        help="only articles with this extraction warning (repeatable: any of them); one of: "
        + ", ".join(sorted(WARNINGS)),
    )
    audit = add(
        "audit", parents=[connection, section_and_date, warning],
        help="list archived articles with extraction warnings",
        description=(
            "List archived articles whose extraction noticed something (no byline, no dateline, a date from a"
            " fallback, an unknown layout, ...), newest first: the ones to check after a site changes its pages,"
            " and to re-extract once the parser is fixed."
        ),
        epilog="examples:\n  python -m spacewar_crawler audit --warning no_byline --since 2026-01-01\n"
        "  python -m spacewar_crawler audit --layout unknown --format csv > unknown.csv\n"
        "  python -m spacewar_crawler reextract --warning no_byline   # after fixing the parser",
    )
    audit.add_argument("--layout", help="only articles read with this layout (e.g. smn-classic, unknown)")
    audit.add_argument("--limit", type=_limit, default=0, help="at most N articles (default 0: all)")
    audit.add_argument("--format", choices=sorted(AUDIT_WRITERS), default="table", help="output format (default table)")
    audit.set_defaults(handler=cmd_audit, search=None, author=None, agency=None, until=None, url=None, site=None)

    reextract = add(
        "reextract", parents=[connection, section_and_date, warning],
        help="re-parse stored originals (no fetching)",
        description=(
            "Parse the stored original pages (WARC_DIR) with the current parser and cleaning, and store the"
            " results: changed articles get a revision, as after a crawl. Nothing is fetched."
        ),
        epilog="examples:\n  python -m spacewar_crawler reextract --section superpowers\n"
        "  python -m spacewar_crawler reextract --since 2025-01-01 -s KEEP_IMAGE_CAPTIONS=1\n"
        "  python -m spacewar_crawler reextract --warning no_byline --url https://www.spacewar.com/reports/X_999.html",
    )
    reextract.add_argument("--url", action="append", help="only this article (repeatable)")
    reextract.set_defaults(
        handler=cmd_reextract, search=None, author=None, agency=None, until=None, layout=None, site=None
    )

    original = add(
        "original", parents=[connection],
        help="print the stored original HTML of an article",
        description="Write the original HTML of an archived article, byte for byte, to standard output.",
        epilog="example:\n  python -m spacewar_crawler original "
        "https://www.spacewar.com/reports/China_says_ready_to_expand_practical_cooperation_with_Russian_army_999.html"
        " > page.html",
    )
    original.add_argument("url", help="the article URL")
    original.set_defaults(handler=cmd_original)
    return parser


class UsageError(ValueError):
    """A command-line value the command cannot take: exit status 2."""


def main(argv: list[str] | None = None) -> int:
    """Run one command; every error is one line on stderr that says what to do."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except BrokenPipeError:
        # The reader went away (`query | head`): what it wanted was printed. Python would report the pipe once
        # more when it flushes stdout at exit, so stdout is pointed at /dev/null first.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ArchiveUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ArchiveWriteError as exc:
        print(f"error: could not write to MongoDB: {exc}; run it again once MongoDB accepts writes", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"error: {exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
