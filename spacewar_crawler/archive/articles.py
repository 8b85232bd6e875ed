"""The articles, their revisions and their other URLs (aliases).

Articles are keyed by canonical URL in `_id` (and `url`, under a unique index). Writes are
batched; an unchanged article only moves `last_seen`, a changed one is replaced whole and
its previous text kept in `revisions`, and one whose text is the same but whose other
fields read differently is refreshed in place. Updates never `$set` a date on an existing
document (the nx-27017 stand-in would store a string there): dates go in through upsert
inserts, `$setOnInsert`, whole-document replacement and `$currentDate`.

An article that moved to a new URL (a site's move to WordPress) is stored once, under the new
URL: its old URLs are kept in its `aliases` and in the `aliases` collection (keyed by the old
URL, so that a lookup never relies on matching inside an array, which the stand-in cannot
do), and a document archived under an old URL is merged into the new one, revisions and all.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from bson.errors import InvalidDocument
from pymongo import ASCENDING, DESCENDING, TEXT, ReplaceOne, UpdateOne
from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from spacewar_crawler.archive.documents import TRACKING_FIELDS, midnight, parse_time, to_document, utc_now
from spacewar_crawler.archive.errors import ArchiveWriteError
from spacewar_crawler.reading.article import ArticleItem
from spacewar_crawler.reading.header import comparable
from spacewar_crawler.site.urls import is_classic_article

logger = logging.getLogger(__name__)

# Fields that say where and when a copy was fetched, not what the article says: they alone change nothing.
_FETCH_FIELDS = frozenset({"url", "title", "body", "content_hash", "fetched_at", "warc_file", "warc_offset"})
ITEM_FIELDS = tuple(f.name for f in fields(ArticleItem))
READ_FIELDS = tuple(name for name in ITEM_FIELDS if name not in _FETCH_FIELDS)
"""What extraction reads besides the text: a difference here refreshes the stored article."""
# What a query returns: the item's fields and the tracking dates (named, for the stand-in's projections).
ARTICLE_FIELDS = (*ITEM_FIELDS, *TRACKING_FIELDS)


@dataclass
class BatchResult:
    new: int = 0
    changed: int = 0
    """The text (title or body) changed: the previous text is kept in `revisions`."""
    refreshed: int = 0
    """The same text with other fields read differently (a parser fix, a new RELATED CONTENT): updated in place."""
    unchanged: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    """Items the server refused (not a connection problem): they go to the spill file."""
    written: list[str] = field(default_factory=list)
    """URLs of the new, changed and refreshed articles."""


@dataclass(frozen=True)
class ArticleQuery:
    """Filters over the archive. Every value is matched as text: none becomes an operator."""

    section: str | None = None
    since: date | None = None
    until: date | None = None
    """Inclusive."""
    search: str | None = None
    """MongoDB text search over title and body: words, "quoted phrases", -exclusions."""
    author: str | None = None
    agency: str | None = None
    warnings: tuple[str, ...] = ()
    """Articles carrying any of these extraction warnings."""
    layout: str | None = None
    urls: tuple[str, ...] = ()
    site: str | None = None
    """A host: www. or not, as the site is printed."""

    def to_filter(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.urls:
            query["_id"] = {"$in": [str(url) for url in self.urls]}
        if self.warnings:
            query["warnings"] = {"$in": [str(w) for w in self.warnings]}
        if self.layout:
            query["layout"] = str(self.layout)
        if self.site:
            query["site"] = {"$in": site_hosts(str(self.site))}
        if self.section:
            query["section_slug"] = str(self.section)
        published: dict[str, datetime] = {}
        if self.since:
            published["$gte"] = midnight(self.since)
        if self.until and self.until < date.max:  # the last day there is has no day after it: no upper bound
            published["$lt"] = midnight(self.until + timedelta(days=1))
        if published:
            query["published"] = published
        if self.author:
            query["author"] = {"$regex": re.escape(str(self.author)), "$options": "i"}
        if self.agency:
            query["agency"] = {"$regex": f"^{re.escape(str(self.agency))}$", "$options": "i"}
        if self.search:
            query["$text"] = {"$search": str(self.search)}
        return query


@dataclass(frozen=True)
class ArchivedSite:
    """What a crawl needs to know of one site's archive, read in one scan."""

    urls: frozenset[str]
    """Every archived article URL, and every alias of one."""
    documents: frozenset[str]
    """The URLs articles are archived under (no aliases)."""
    linked: frozenset[str]
    """Every URL the archived articles' RELATED CONTENT links to."""
    changed_at: dict[str, datetime]
    """When each article last changed as far as the archive knows: the site's `modified`, else its fetch time."""


def site_hosts(site: str) -> list[str]:
    """A site's host with and without www. (the network's sites answer on both, and moved to the bare host)."""
    host = site.lower().removeprefix("www.")
    return [host, f"www.{host}"]


def _identity(url: str, title: object, published: object) -> tuple[str, str, Any]:
    """What says two URLs print one article of one site: the site (www. or not), the headline, the day."""
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    return host, comparable(str(title or "")), published


class ArticleStore:
    """The `articles` collection (MONGO_COLLECTION), `revisions` and `aliases`."""

    def __init__(
        self,
        articles: Collection[dict[str, Any]],
        revisions: Collection[dict[str, Any]],
        aliases: Collection[dict[str, Any]],
    ) -> None:
        self.collection = articles
        self.revisions = revisions
        self.aliases = aliases

    def ensure_indexes(self) -> None:
        self.collection.create_index([("url", ASCENDING)], unique=True, name="url_1")
        self.collection.create_index(
            [("section_slug", ASCENDING), ("published", DESCENDING)], name="section_slug_1_published_-1"
        )
        self.collection.create_index([("published", DESCENDING)], name="published_-1")
        try:
            self.collection.create_index([("title", TEXT), ("body", TEXT)], name="title_body_text")
        except OperationFailure:
            # nx-27017 refuses to build a text index a second time and does not list it;
            # if text search answers, the index is there.
            self.collection.find_one({"$text": {"$search": "archive"}})
        self.revisions.create_index([("url", ASCENDING)], name="url_1")
        self.collection.create_index([("aliases", ASCENDING)], name="aliases_1")
        self.aliases.create_index([("url", ASCENDING)], name="url_1")

    def upsert_batch(self, items: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Store a batch of items: insert new URLs, track changes, move `last_seen`.

        Idempotent: writing the same batch twice (a retry after a lost connection) gives
        the same archive. Raises ArchiveWriteError when the server cannot be written to.
        """
        latest = {item["url"]: item for item in items}  # duplicates in one batch: the last one wins
        try:
            counts, refused, written = self._write_isolated(latest)
            if refused:
                # Another writer inserted these URLs between our read and our write: once more.
                again, refused, rewritten = self._write_isolated({url: latest[url] for url in refused})
                counts.update(again)
                written.update(rewritten)
        except PyMongoError as exc:
            raise ArchiveWriteError(f"{type(exc).__name__}: {exc}") from exc
        for url, error in refused.items():
            logger.error("MongoDB refused %s: %s", url, error)
        return BatchResult(
            new=counts["new"],
            changed=counts["changed"],
            refreshed=counts["refreshed"],
            unchanged=counts["unchanged"],
            failed=[dict(latest[url]) for url in refused],
            written=[url for url, kind in written.items() if url not in refused and kind != "unchanged"],
        )

    def _write_isolated(
        self, latest: dict[str, Mapping[str, Any]]
    ) -> tuple[Counter[str], dict[str, str], dict[str, str]]:
        """The batch at once; if one document can never be a MongoDB document (too large, a number out of range),
        each on its own, so that only that one is refused."""
        try:
            return self._write({url: to_document(item) for url, item in latest.items()})
        except (InvalidDocument, OverflowError, ValueError):
            counts: Counter[str] = Counter()
            refused: dict[str, str] = {}
            written: dict[str, str] = {}
            for url, item in latest.items():
                try:
                    one_counts, one_refused, one_written = self._write({url: to_document(item)})
                except (InvalidDocument, OverflowError, ValueError) as exc:
                    refused[url] = f"{type(exc).__name__}: {str(exc)[:200]}"
                    continue
                counts.update(one_counts)
                refused.update(one_refused)
                written.update(one_written)
            return counts, refused, written

    def _write(self, docs: dict[str, dict[str, Any]]) -> tuple[Counter[str], dict[str, str], dict[str, str]]:
        """Write `docs`; returns the count of each kind of write, the refused URLs with why, and each URL's kind."""
        now = utc_now()
        wanted = ("content_hash", "title", "body", "first_seen", "last_changed", *READ_FIELDS)
        existing = {d["_id"]: d for d in self.collection.find({"_id": {"$in": list(docs)}}, dict.fromkeys(wanted, 1))}
        moved = self._moved(docs, existing, wanted)
        ops: list[UpdateOne | ReplaceOne] = []
        revisions: list[UpdateOne] = []
        kinds: list[str] = []
        for url, doc in docs.items():
            old = existing.get(url)
            earlier = moved.get(url, [])
            for previous in earlier:  # archived under an old URL: the new URL's history starts there
                seen_from = previous.get("last_changed") or previous.get("first_seen")
                if previous.get("content_hash") != doc.get("content_hash"):
                    revisions.append(self._revision(url, previous, seen_from, now))
            if old is None and earlier:
                first = earlier[0]
                text_changed = any(p.get("content_hash") != doc.get("content_hash") for p in earlier)
                tracking = {
                    "first_seen": min((p.get("first_seen") or now for p in earlier), default=now),
                    "last_changed": now if text_changed else first.get("last_changed"),
                }
                ops.append(ReplaceOne({"_id": url}, {**doc, **tracking, "last_seen": now}, upsert=True))
                kinds.append("changed" if text_changed else "refreshed")
            elif old is None:
                ops.append(
                    UpdateOne(
                        {"_id": url},
                        {"$setOnInsert": {**doc, "first_seen": now, "last_seen": now, "last_changed": now}},
                        upsert=True,
                    )
                )
                kinds.append("new")
            elif old.get("content_hash") == doc.get("content_hash"):
                if all(old.get(name) == doc.get(name) for name in READ_FIELDS):
                    ops.append(UpdateOne({"_id": url}, {"$currentDate": {"last_seen": True}}))
                    kinds.append("unchanged")
                else:
                    tracking = {"first_seen": old.get("first_seen") or now, "last_changed": old.get("last_changed")}
                    ops.append(ReplaceOne({"_id": url}, {**doc, **tracking, "last_seen": now}))
                    kinds.append("refreshed")
            else:
                seen_from = old.get("last_changed") or old.get("first_seen")
                ops.append(
                    ReplaceOne(
                        {"_id": url},
                        {**doc, "first_seen": old.get("first_seen") or now, "last_seen": now, "last_changed": now},
                    )
                )
                revisions.append(self._revision(url, old, seen_from, now))
                kinds.append("changed")
        if not ops:
            return Counter(), {}, {}
        if revisions:
            self.revisions.bulk_write(revisions, ordered=False)
        refused: dict[str, str] = {}
        urls = list(docs)
        try:
            self.collection.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                refused[urls[error["index"]]] = f"{error.get('code')}: {error.get('errmsg')}"
        stored = [url for url in urls if url not in refused]
        self._record_aliases({alias: url for url in stored for alias in docs[url].get("aliases") or ()})
        self._retire({url: [p["_id"] for p in moved[url]] for url in stored if url in moved})
        counts = Counter(kind for url, kind in zip(urls, kinds, strict=True) if url not in refused)
        return counts, refused, dict(zip(urls, kinds, strict=True))

    def _moved(
        self, docs: dict[str, dict[str, Any]], existing: dict[str, dict[str, Any]], wanted: tuple[str, ...]
    ) -> dict[str, list[dict[str, Any]]]:
        """The documents archived under an old URL of a document in `docs` (its aliases, and the old URLs recorded
        as redirecting to it), by new URL."""
        # Every old URL of each document: its own, the stored version's, the redirects recorded (one may have been seen
        # before the article was stored, refused as a duplicate of its fetch), a classic URL of the same article.
        old_urls: dict[str, str] = {}
        for record in self.aliases.find({"url": {"$in": list(docs)}}, {"_id": 1, "url": 1}):
            old_urls[record["_id"]] = record["url"]
        for url, doc in [*docs.items(), *existing.items()]:
            old_urls.update({alias: url for alias in doc.get("aliases") or () if alias != url})
        old_urls.update(self._same_articles_at_classic_urls({u: d for u, d in docs.items() if u not in existing}))
        moved: dict[str, list[dict[str, Any]]] = {}
        if old_urls:
            found = self.collection.find({"_id": {"$in": list(old_urls)}}, dict.fromkeys((*wanted, "aliases"), 1))
            for previous in sorted(found, key=lambda d: d.get("first_seen") or datetime.max.replace(tzinfo=UTC)):
                moved.setdefault(old_urls[previous["_id"]], []).append(previous)
                old_urls.update({alias: old_urls[previous["_id"]] for alias in previous.get("aliases") or ()})
        for old, url in old_urls.items():
            if old != url:
                docs[url]["aliases"] = sorted({*(docs[url].get("aliases") or ()), old})
        return moved

    def _same_articles_at_classic_urls(self, new: dict[str, dict[str, Any]]) -> dict[str, str]:
        """Old URL -> new URL, for new articles at WordPress-era URLs that the archive holds under a classic URL of
        the same site: the same headline (as `comparable` reads it), published the same day. The site moved, and
        no redirect from the old URL was seen (nothing linked it this run)."""
        moved = {url: doc for url, doc in new.items() if not is_classic_article(url) and doc.get("published")}
        if not moved:
            return {}
        hosts = sorted({host for doc in moved.values() for host in site_hosts(doc.get("site") or "")})
        days = sorted({doc["published"] for doc in moved.values()})
        query = {"site": {"$in": hosts}, "published": {"$in": days}}
        by_key: dict[tuple[str, str, Any], str] = {}
        for old in self.collection.find(query, {"_id": 1, "title": 1, "published": 1}):
            if is_classic_article(old["_id"]):
                by_key.setdefault(_identity(old["_id"], old.get("title"), old.get("published")), old["_id"])
        found: dict[str, str] = {}
        for url, doc in moved.items():
            old_url = by_key.get(_identity(url, doc.get("title"), doc["published"]))
            if old_url is not None and old_url not in found:
                found[old_url] = url
        return found

    def _record_aliases(self, aliases: dict[str, str]) -> None:
        if aliases:
            self.aliases.bulk_write(
                [UpdateOne({"_id": old}, {"$set": {"url": new}}, upsert=True) for old, new in aliases.items()],
                ordered=False,
            )

    def _retire(self, merged: dict[str, list[str]]) -> None:
        """After their article is stored under its new URL: the old documents go, their revisions move to it."""
        for url, old_urls in merged.items():
            for old in old_urls:
                self.revisions.update_many({"url": old}, {"$set": {"url": url}})
            self.collection.delete_many({"_id": {"$in": old_urls}})
            logger.info("Merged %s into %s (the article moved)", ", ".join(old_urls), url)

    def add_aliases(self, aliases: Mapping[str, str]) -> int:
        """Old URLs seen redirecting to new ones (old -> new). Recorded; an article archived under the old URL is
        merged into the new one's document, or moved to the new URL if that has none yet. Returns how many."""
        aliases = {old: new for old, new in aliases.items() if old != new}
        if not aliases:
            return 0
        self._record_aliases(aliases)
        targets = set(aliases.values())
        stored = {d["_id"]: d for d in self.collection.find({"_id": {"$in": [*targets, *aliases]}})}
        for new in targets:
            old_urls = {old for old, target in aliases.items() if target == new}
            olds = [stored[old] for old in old_urls if old in stored]
            base = stored.get(new) or ({**olds[0], "_id": new, "url": new} if olds else None)
            if base is None or (not olds and old_urls <= set(base.get("aliases") or ())):
                continue  # not archived under either URL yet (the alias record waits for it), or nothing new
            item = {k: v for k, v in base.items() if k not in TRACKING_FIELDS and k != "_id"}
            item["aliases"] = sorted(set(item.get("aliases") or ()) | old_urls)
            self._write({new: to_document(item)})
        return len(aliases)

    def resolve(self, url: str) -> str:
        """The URL an article is archived under: `url` itself, or the new URL an old one moved to."""
        record = self.aliases.find_one({"_id": str(url)}, {"url": 1})
        return record["url"] if record else url

    @staticmethod
    def _revision(url: str, old: Mapping[str, Any], seen_from: datetime | None, now: datetime) -> UpdateOne:
        key = hashlib.sha256(f"{url}\n{old.get('content_hash')}\n{seen_from}".encode()).hexdigest()
        return UpdateOne(
            {"_id": key},
            {
                "$setOnInsert": {
                    "url": url,
                    "content_hash": old.get("content_hash"),
                    "title": old.get("title"),
                    "body": old.get("body"),
                    "seen_from": seen_from,
                    "seen_until": now,
                }
            },
            upsert=True,
        )

    def archived_site(self, site: str) -> ArchivedSite:
        """One site's archived articles (on its www. and bare hosts), with their aliases, the URLs their RELATED
        CONTENT links to and when each last changed: one scan per run."""
        archived: set[str] = set()
        linked: set[str] = set()
        changed_at: dict[str, datetime] = {}
        projection = {"_id": 1, "related": 1, "aliases": 1, "modified": 1, "fetched_at": 1}
        documents: set[str] = set()
        for doc in self.collection.find({"site": {"$in": site_hosts(site)}}, projection):
            documents.add(doc["_id"])
            archived.add(doc["_id"])
            archived.update(a for a in doc.get("aliases") or () if isinstance(a, str))
            links = doc.get("related") or ()
            linked.update(link["url"] for link in links if isinstance(link, dict) and link.get("url"))
            when = parse_time(doc.get("modified")) or parse_time(doc.get("fetched_at"))
            if when is not None:
                changed_at[doc["_id"]] = when
        return ArchivedSite(frozenset(archived), frozenset(documents), frozenset(linked), changed_at)

    def find(
        self, query: ArticleQuery, *, by_relevance: bool = False, limit: int = 0, newest_first: bool = True
    ) -> Iterator[dict[str, Any]]:
        """Matching articles as documents, newest first (or by text relevance), streamed."""
        for doc in self._cursor(query, by_relevance, limit, newest_first):
            doc.pop("score", None)
            yield doc

    def explain_find(self, query: ArticleQuery, limit: int) -> dict[str, Any]:
        """The server's plan for `find(query, limit=limit)` (to check that an index serves it)."""
        return self._cursor(query, False, limit, True).explain()

    def _cursor(
        self, query: ArticleQuery, by_relevance: bool, limit: int, newest_first: bool
    ) -> Cursor[dict[str, Any]]:
        projection: dict[str, Any] = dict.fromkeys(ARTICLE_FIELDS, 1)
        sort: list[tuple[str, Any]]
        if by_relevance and query.search:
            projection["score"] = {"$meta": "textScore"}
            sort = [("score", {"$meta": "textScore"})]
        elif newest_first:
            sort = [("published", DESCENDING), ("_id", ASCENDING)]
        else:
            sort = [("_id", ASCENDING)]
        return self.collection.find(query.to_filter(), projection, batch_size=500).sort(sort).limit(limit)

    def article(self, url: str) -> dict[str, Any] | None:
        """The article archived under `url`, or under the URL it moved to."""
        return self.collection.find_one({"_id": str(url)}) or self.collection.find_one({"_id": self.resolve(url)})

    def count(self) -> int:
        return self.collection.estimated_document_count()

    def count_matching(self, query: ArticleQuery) -> int:
        return self.collection.count_documents(query.to_filter())

    def counts_by_section(self, query: ArticleQuery) -> list[tuple[str | None, int]]:
        return self._counts_by("$section_slug", query)

    def counts_by_month(self, query: ArticleQuery) -> list[tuple[str | None, int]]:
        """Article counts per month published ("2025-05"), oldest first."""
        return self._counts_by({"$dateToString": {"format": "%Y-%m", "date": "$published"}}, query)

    def _counts_by(self, expression: str | dict[str, Any], query: ArticleQuery) -> list[tuple[Any, int]]:
        """Article counts grouped by one expression (the stand-in groups on one expression only)."""
        match = query.to_filter()
        stages = [{"$match": match}] if match else []
        stages += [{"$group": {"_id": expression, "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
        return [(row["_id"], row["n"]) for row in self.collection.aggregate(stages)]
