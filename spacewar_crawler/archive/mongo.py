"""The MongoDB connection: the archive's collections in one database, and how a run reaches the server.

The archive package is the one place that imports pymongo.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pymongo import MongoClient
from pymongo.errors import InvalidName, PyMongoError

from spacewar_crawler.archive.articles import ArticleStore
from spacewar_crawler.archive.embedded import EmbeddedMongo, EmbeddedMongoError, port_answers
from spacewar_crawler.archive.errors import ArchiveUnavailable
from spacewar_crawler.archive.records import ListingStore, RejectLog, RunLog, SiteStore

logger = logging.getLogger(__name__)


def mask_uri(uri: str) -> str:
    """The URI with its password replaced by ***, fit for logs and messages (also when it is not escaped)."""
    match = re.match(r"^(mongodb(?:\+srv)?://)(.*)@", uri)
    if match is None:
        return uri
    user, has_password, _ = match.group(2).partition(":")
    return f"{match.group(1)}{user}{':***' if has_password else ''}@{uri[match.end() :]}"


@dataclass(frozen=True)
class ArchiveConfig:
    """Where the archive is; built from the crawl's settings (their defaults live in settings.py)."""

    uri: str | None
    database: str
    collection: str
    embedded_dir: Path
    embedded_port: int
    connect_timeout: float

    @classmethod
    def from_settings(cls, settings: Any) -> ArchiveConfig:
        """From Scrapy settings (anything with `get`, `getint`, `getfloat`)."""
        return cls(
            uri=settings.get("MONGO_URI") or None,
            database=settings.get("MONGO_DATABASE"),
            collection=settings.get("MONGO_COLLECTION"),
            embedded_dir=Path(settings.get("MONGO_EMBEDDED_DIR")),
            embedded_port=settings.getint("MONGO_EMBEDDED_PORT"),
            connect_timeout=settings.getfloat("MONGO_CONNECT_TIMEOUT"),
        )


class MongoArchive:
    """The archive's collections in one MongoDB database: articles, runs, rejects, listings, sites."""

    def __init__(self, uri: str, database: str, collection: str, connect_timeout: float) -> None:
        timeout_ms = int(connect_timeout * 1000)
        self.uri = uri
        self.client: MongoClient[dict[str, Any]] = MongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            appname="spacewar-crawler",
        )
        db = self.client[database]
        self.articles = ArticleStore(db[collection], db["revisions"], db["aliases"])
        self.runs = RunLog(db["crawl_runs"])
        self.rejects = RejectLog(db["rejects"])
        self.listings = ListingStore(db["listings"])
        self.sites = SiteStore(db["sites"])

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
        self.articles.ensure_indexes()
        self.rejects.ensure_indexes()

    def close(self) -> None:
        self.client.close()


def connect_archive(
    config: ArchiveConfig, log: Callable[[str], None] = logger.info
) -> tuple[MongoArchive, EmbeddedMongo | None]:
    """Connect to MONGO_URI, or to the embedded stand-in when it is unset (starting it if needed)."""
    embedded: EmbeddedMongo | None = None
    uri = config.uri
    if not uri:
        uri = f"mongodb://127.0.0.1:{config.embedded_port}/"
        if port_answers(config.embedded_port):
            embedded = EmbeddedMongo.left_running(config.embedded_dir, config.embedded_port)
            if embedded is not None:
                logger.warning(
                    "MONGO_URI is unset: the embedded stand-in at %s was left running by an earlier run that was "
                    "killed; using it, and stopping it at the end of this run",
                    uri,
                )
            else:
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
    try:
        archive = MongoArchive(uri, config.database, config.collection, config.connect_timeout)
    except InvalidName as exc:
        raise ArchiveUnavailable(f"{config.database!r} is no MongoDB database name ({exc}); choose another") from None
    except PyMongoError as exc:  # InvalidURI, ConfigurationError: nothing was sent anywhere
        if embedded:
            embedded.stop()
        raise ArchiveUnavailable(
            f"{mask_uri(uri)} is no MongoDB URI that pymongo takes ({type(exc).__name__}); "
            "percent-escape @ : / % in the user name and password (urllib.parse.quote_plus)"
        ) from None
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
