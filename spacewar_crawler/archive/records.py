"""What the crawl keeps about itself: its runs, the pages that did not become articles, listing validators."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne
from pymongo.collection import Collection

from spacewar_crawler.archive.documents import utc_now
from spacewar_crawler.reading.article import FETCH_FAILED, NOT_AN_ARTICLE


class RunLog:
    """`crawl_runs`: one document per crawl, written when it starts and when it ends."""

    def __init__(self, runs: Collection[dict[str, Any]]) -> None:
        self.runs = runs

    def recent(self, limit: int) -> list[dict[str, Any]]:
        return list(self.runs.find({}).sort([("started_at", DESCENDING)]).limit(limit))

    def start(self, run: Mapping[str, Any]) -> None:
        self.runs.insert_one(dict(run))

    def finish(self, run: Mapping[str, Any]) -> None:
        self.runs.replace_one({"_id": run["_id"]}, dict(run), upsert=True)

    def warc_dirs(self) -> list[Path]:
        """The absolute WARC directories the runs wrote to, newest run first."""
        found = (run.get("warc_dir") for run in self.runs.find({}, {"warc_dir": 1}).sort([("started_at", DESCENDING)]))
        return [Path(d) for d in dict.fromkeys(d for d in found if isinstance(d, str) and d)]


class RejectLog:
    """`rejects`: every page that did not become an article, with its kind, status and whether it may pass."""

    def __init__(self, rejects: Collection[dict[str, Any]]) -> None:
        self.rejects = rejects

    def ensure_indexes(self) -> None:
        self.rejects.create_index([("url", ASCENDING)], name="url_1")

    def add(self, rejects: list[Mapping[str, Any]]) -> None:
        if rejects:
            self.rejects.insert_many([dict(r) for r in rejects], ordered=False)

    def rejected_urls(self) -> frozenset[str]:
        """Every URL that was ever rejected, for whatever reason."""
        return frozenset(url for url in self.rejects.distinct("url") if isinstance(url, str))

    def not_article_urls(self) -> frozenset[str]:
        """Every URL found to be no article (a listing, a WordPress page, a link of unknown scheme that led nowhere)."""
        urls = self.rejects.distinct("url", {"kind": NOT_AN_ARTICLE})
        return frozenset(url for url in urls if isinstance(url, str))

    def fetch_failures(self) -> list[dict[str, Any]]:
        """Every recorded failure to fetch a page (url, lasting), oldest first."""
        wanted = {"_id": 0, "url": 1, "lasting": 1}
        return list(self.rejects.find({"kind": FETCH_FAILED}, wanted).sort([("time", ASCENDING)]))


class ListingStore:
    """`listings`: the ETag and Last-Modified of each listing page, as the last complete run saw them."""

    def __init__(self, listings: Collection[dict[str, Any]]) -> None:
        self.listings = listings

    def validators(self) -> dict[str, dict[str, str | None]]:
        """ETag and Last-Modified of each listing page, as the last finished run saw them."""
        return {
            doc["_id"]: {"etag": doc.get("etag"), "last_modified": doc.get("last_modified")}
            for doc in self.listings.find({})
        }

    def save(self, validators: Mapping[str, Mapping[str, str | None]]) -> None:
        now = utc_now()
        # The replacement repeats `_id`: nx-27017 gives an upserted replacement a new ObjectId otherwise.
        ops = [
            ReplaceOne(
                {"_id": url},
                {"_id": url, "etag": v.get("etag"), "last_modified": v.get("last_modified"), "checked_at": now},
                upsert=True,
            )
            for url, v in validators.items()
        ]
        if ops:
            self.listings.bulk_write(ops, ordered=False)


class SiteStore:
    """`sites`: each crawled site of the network (by its bare host), the root it was crawled at, and the generation
    of its software it showed last, with when."""

    def __init__(self, sites: Collection[dict[str, Any]]) -> None:
        self.sites = sites

    def last_seen(self, host: str) -> dict[str, Any] | None:
        return self.sites.find_one({"_id": host.lower().removeprefix("www.")})

    def seen(self, host: str, root: str, generation: str) -> None:
        bare = host.lower().removeprefix("www.")
        # The replacement repeats `_id`: nx-27017 gives an upserted replacement a new ObjectId otherwise.
        doc = {"_id": bare, "hosts": [bare, f"www.{bare}"], "root": root, "generation": generation}
        self.sites.replace_one({"_id": bare}, {**doc, "seen_at": utc_now()}, upsert=True)

    def all(self) -> list[dict[str, Any]]:
        return list(self.sites.find({}).sort([("_id", ASCENDING)]))
