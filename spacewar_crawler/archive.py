"""The MongoDB archive: the one module that talks to pymongo.

Articles are keyed by canonical URL in `_id` (and `url`, under a unique index). Writes are
batched; an unchanged article only moves `last_seen`, a changed one is replaced whole and
its previous text kept in `revisions`. Updates never `$set` a date on an existing
document (the nx-27017 stand-in would store a string there): dates go in through upsert
inserts, `$setOnInsert`, whole-document replacement and `$currentDate`.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo import ASCENDING, DESCENDING, TEXT, MongoClient, ReplaceOne, UpdateOne
from pymongo.cursor import Cursor
from pymongo.errors import BulkWriteError, OperationFailure, PyMongoError

from spacewar_crawler.embedded_mongo import EmbeddedMongo, EmbeddedMongoError, port_answers
from spacewar_crawler.items import ArticleItem

logger = logging.getLogger(__name__)

DATE_FIELDS = ("published", "fetched_at")
TRACKING_FIELDS = ("first_seen", "last_seen", "last_changed")
# Fields that say where and when a copy was fetched, not what the article says: they alone change nothing.
_FETCH_FIELDS = frozenset({"url", "title", "body", "content_hash", "fetched_at", "warc_file", "warc_offset"})
READ_FIELDS = tuple(f.name for f in fields(ArticleItem) if f.name not in _FETCH_FIELDS)
"""What extraction reads besides the text: a difference here refreshes the stored article."""


class ArchiveUnavailable(RuntimeError):
    """The MongoDB server cannot be reached; the message names the (masked) URI and a fix."""


class ArchiveWriteError(RuntimeError):
    """A write failed (server gone, disk full, ...); the batch may be retried as a whole."""


def mask_uri(uri: str) -> str:
    """The URI with its password replaced by ***, fit for logs and messages."""
    return re.sub(r"^(mongodb(?:\+srv)?://[^:/@]+):[^@/]*@", r"\1:***@", uri)


def utc_now() -> datetime:
    """Now, at the millisecond precision that BSON dates keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _to_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return _midnight(value)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def to_document(item: Mapping[str, Any]) -> dict[str, Any]:
    """An item (JSON types, ISO dates) as a MongoDB document (BSON dates, `_id` = url)."""
    doc = dict(item)
    for name in DATE_FIELDS:
        doc[name] = _to_datetime(doc.get(name))
    doc["_id"] = doc["url"]
    return doc


def to_item(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A stored document with JSON types: ISO dates (date-only for `published`), no `_id`."""
    item = {k: v for k, v in doc.items() if k != "_id"}
    for name, value in item.items():
        if isinstance(value, datetime):
            value = value if value.tzinfo else value.replace(tzinfo=UTC)
            item[name] = value.date().isoformat() if name == "published" else value.strftime("%Y-%m-%dT%H:%M:%SZ")
    return item


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

    def to_filter(self) -> dict[str, Any]:
        query: dict[str, Any] = {}
        if self.urls:
            query["_id"] = {"$in": [str(url) for url in self.urls]}
        if self.warnings:
            query["warnings"] = {"$in": [str(w) for w in self.warnings]}
        if self.layout:
            query["layout"] = str(self.layout)
        if self.section:
            query["section_slug"] = str(self.section)
        published: dict[str, datetime] = {}
        if self.since:
            published["$gte"] = _midnight(self.since)
        if self.until:
            published["$lt"] = _midnight(self.until + timedelta(days=1))
        if published:
            query["published"] = published
        if self.author:
            query["author"] = {"$regex": re.escape(str(self.author)), "$options": "i"}
        if self.agency:
            query["agency"] = {"$regex": f"^{re.escape(str(self.agency))}$", "$options": "i"}
        if self.search:
            query["$text"] = {"$search": str(self.search)}
        return query


# What a query returns: the item's fields and the tracking dates (named, for the stand-in's projections).
ARTICLE_FIELDS = (
    "url", "site", "section", "section_slug", "title", "author", "dateline", "location", "agency", "published",
    "body", "images", "related", "related_links", "content_hash", "fetched_at", "warc_file", "warc_offset",
    "layout", "warnings", "first_seen", "last_seen", "last_changed",
)  # fmt: skip


@dataclass(frozen=True)
class ArchiveConfig:
    uri: str | None
    database: str = "spacewar"
    collection: str = "articles"
    embedded_dir: Path = Path("data/mongo")
    embedded_port: int = 27017
    connect_timeout: float = 3.0


class MongoArchive:
    """Articles, their revisions, crawl runs and rejects in one MongoDB database."""

    def __init__(self, uri: str, database: str, collection: str, connect_timeout: float = 3.0) -> None:
        timeout_ms = int(connect_timeout * 1000)
        self.uri = uri
        self.client: MongoClient[dict[str, Any]] = MongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            appname="spacewar-crawler",
        )
        self.db = self.client[database]
        self.articles = self.db[collection]
        self.revisions = self.db["revisions"]
        self.crawl_runs = self.db["crawl_runs"]
        self.rejects = self.db["rejects"]
        self.listings = self.db["listings"]

    def ping(self) -> None:
        try:
            self.client.admin.command("ping")
        except Exception as exc:  # pymongo lets some handshake failures out as KeyError and the like
            raise ArchiveUnavailable(
                f"Cannot reach MongoDB at {mask_uri(self.uri)} ({type(exc).__name__}). "
                "Start the server or point MONGO_URI (env or -s MONGO_URI=...) at a running one."
            ) from None

    def ensure_indexes(self) -> None:
        """Create the data model's indexes; safe to call on every start."""
        self.articles.create_index([("url", ASCENDING)], unique=True, name="url_1")
        self.articles.create_index(
            [("section_slug", ASCENDING), ("published", DESCENDING)], name="section_slug_1_published_-1"
        )
        self.articles.create_index([("published", DESCENDING)], name="published_-1")
        try:
            self.articles.create_index([("title", TEXT), ("body", TEXT)], name="title_body_text")
        except OperationFailure:
            # nx-27017 refuses to build a text index a second time and does not list it;
            # if text search answers, the index is there.
            self.articles.find_one({"$text": {"$search": "archive"}})
        self.revisions.create_index([("url", ASCENDING)], name="url_1")
        self.rejects.create_index([("url", ASCENDING)], name="url_1")

    def close(self) -> None:
        self.client.close()

    def upsert_batch(self, items: Iterable[Mapping[str, Any]]) -> BatchResult:
        """Store a batch of items: insert new URLs, track changes, move `last_seen`.

        Idempotent: writing the same batch twice (a retry after a lost connection) gives
        the same archive. Raises ArchiveWriteError when the server cannot be written to.
        """
        latest = {item["url"]: item for item in items}  # duplicates in one batch: the last one wins
        try:
            counts, refused, written = self._write({url: to_document(item) for url, item in latest.items()})
            if refused:
                # Another writer inserted these URLs between our read and our write: once more.
                again, refused, rewritten = self._write({url: to_document(latest[url]) for url in refused})
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

    def _write(self, docs: dict[str, dict[str, Any]]) -> tuple[Counter[str], dict[str, str], dict[str, str]]:
        """Write `docs`; returns the count of each kind of write, the refused URLs with why, and each URL's kind."""
        now = utc_now()
        wanted = ("content_hash", "title", "body", "first_seen", "last_changed", *READ_FIELDS)
        existing = {d["_id"]: d for d in self.articles.find({"_id": {"$in": list(docs)}}, dict.fromkeys(wanted, 1))}
        ops: list[UpdateOne | ReplaceOne] = []
        revisions: list[UpdateOne] = []
        kinds: list[str] = []
        for url, doc in docs.items():
            old = existing.get(url)
            if old is None:
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
            self.articles.bulk_write(ops, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                refused[urls[error["index"]]] = f"{error.get('code')}: {error.get('errmsg')}"
        counts = Counter(kind for url, kind in zip(urls, kinds, strict=True) if url not in refused)
        return counts, refused, dict(zip(urls, kinds, strict=True))

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

    def archived_urls(self, site: str) -> frozenset[str]:
        """Every archived article URL of one site: loaded once per run, checked per link."""
        return frozenset(doc["_id"] for doc in self.articles.find({"site": site}, {"_id": 1}))

    def listing_validators(self) -> dict[str, dict[str, str | None]]:
        """ETag and Last-Modified of each listing page, as the last finished run saw them."""
        return {
            doc["_id"]: {"etag": doc.get("etag"), "last_modified": doc.get("last_modified")}
            for doc in self.listings.find({})
        }

    def save_listing_validators(self, validators: Mapping[str, Mapping[str, str | None]]) -> None:
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
        return self.articles.find(query.to_filter(), projection, batch_size=500).sort(sort).limit(limit)

    def article(self, url: str) -> dict[str, Any] | None:
        return self.articles.find_one({"_id": str(url)})

    def count(self) -> int:
        return self.articles.estimated_document_count()

    def count_matching(self, query: ArticleQuery) -> int:
        return self.articles.count_documents(query.to_filter())

    def counts_by(self, expression: str | dict[str, Any]) -> list[tuple[Any, int]]:
        """Article counts grouped by one expression (a field path or a date format)."""
        rows = self.articles.aggregate([{"$group": {"_id": expression, "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}])
        return [(row["_id"], row["n"]) for row in rows]

    def recent_runs(self, limit: int) -> list[dict[str, Any]]:
        return list(self.crawl_runs.find({}).sort([("started_at", DESCENDING)]).limit(limit))

    def start_run(self, run: Mapping[str, Any]) -> None:
        self.crawl_runs.insert_one(dict(run))

    def finish_run(self, run: Mapping[str, Any]) -> None:
        self.crawl_runs.replace_one({"_id": run["_id"]}, dict(run), upsert=True)

    def fetch_failures(self) -> list[dict[str, Any]]:
        """Every recorded failure to fetch a page (url, reason), oldest first."""
        fields = {"_id": 0, "url": 1, "reason": 1}
        return list(self.rejects.find({"reason": {"$regex": "^fetch_failed: "}}, fields).sort([("time", ASCENDING)]))

    def add_rejects(self, rejects: list[Mapping[str, Any]]) -> None:
        if rejects:
            self.rejects.insert_many([dict(r) for r in rejects], ordered=False)


def connect_archive(
    config: ArchiveConfig, log: Callable[[str], None] = logger.info
) -> tuple[MongoArchive, EmbeddedMongo | None]:
    """Connect to MONGO_URI, or to the embedded stand-in when it is unset (starting it if needed)."""
    embedded: EmbeddedMongo | None = None
    uri = config.uri
    if not uri:
        uri = f"mongodb://127.0.0.1:{config.embedded_port}/"
        if port_answers(config.embedded_port):
            log(f"MONGO_URI is unset: using the MongoDB server that answers at {uri}")
        else:
            embedded = EmbeddedMongo(config.embedded_dir, config.embedded_port)
            try:
                embedded.start()
            except EmbeddedMongoError as exc:
                raise ArchiveUnavailable(f"MONGO_URI is unset and the embedded stand-in did not start: {exc}") from None
            log(
                f"MONGO_URI is unset: started the embedded MongoDB stand-in (nx-27017) at {uri} with data in "
                f"{config.embedded_dir}; set MONGO_URI to use a real MongoDB"
            )
    archive = MongoArchive(uri, config.database, config.collection, config.connect_timeout)
    try:
        archive.ping()
        archive.ensure_indexes()
    except (ArchiveUnavailable, PyMongoError) as exc:
        archive.close()
        if embedded:
            embedded.stop()
        if isinstance(exc, ArchiveUnavailable):
            raise
        raise ArchiveUnavailable(f"MongoDB at {mask_uri(uri)} refused to set up the archive: {exc}") from None
    return archive, embedded
