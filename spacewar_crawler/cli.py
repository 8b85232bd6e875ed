"""Command-line interface over the archive: `python -m spacewar_crawler COMMAND --help`.

Exit status: 0 on success (also when nothing matched), 1 on failure, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from scrapy.utils.project import get_project_settings

from spacewar_crawler.archive import ArchiveUnavailable, ArchiveWriteError, MongoArchive, connect_archive
from spacewar_crawler.storage import archive_config

REPLAY_BATCH = 500


@contextmanager
def open_archive(args: argparse.Namespace) -> Iterator[MongoArchive]:
    """The archive named by --mongo-uri/--db, else by the crawl's settings and environment."""
    # The crawl's settings, also when called from outside the repository root.
    os.environ.setdefault("SCRAPY_SETTINGS_MODULE", "spacewar_crawler.settings")
    config = archive_config(get_project_settings())
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
            if not isinstance(item, dict) or not item.get("url"):
                print(f"{path}:{number}: not an article item; skipped", file=out)
                continue
            yield item


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
    result = archive.upsert_batch(batch)
    totals["new"] += result.new
    totals["changed"] += result.changed
    totals["unchanged"] += result.unchanged
    totals["failed"] += len(result.failed)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m spacewar_crawler",
        description="Work with the SpaceWar.com archive in MongoDB.",
    )
    connection = argparse.ArgumentParser(add_help=False)
    connection.add_argument("--mongo-uri", help="MongoDB URI (default: MONGO_URI, else the embedded stand-in)")
    connection.add_argument("--db", help="database name (default: MONGO_DATABASE, else 'spacewar')")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    replay = commands.add_parser(
        "replay",
        parents=[connection],
        help="store items spilled during a storage outage",
        description="Store the items of a spill file written when MongoDB was unavailable. Idempotent.",
        epilog="example: python -m spacewar_crawler replay data/spill/spill-20261129T090000Z-1a2b3c4d.jsonl",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    replay.add_argument("file", help="the spill file (JSON lines)")
    replay.set_defaults(handler=cmd_replay)
    return parser


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    args = build_parser().parse_args(argv)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except ArchiveUnavailable as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except ArchiveWriteError as exc:
        print(f"error: could not write to MongoDB: {exc}", file=sys.stderr)
        return 1
