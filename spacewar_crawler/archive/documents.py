"""How items become MongoDB documents and back: `_id` is the URL, dates are BSON dates."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

import bson
from bson.errors import InvalidDocument

DATE_FIELDS = ("published", "fetched_at")
# MongoDB's limit is 16 MiB; the tracking fields and the server's own overhead fit in the rest.
MAX_DOCUMENT_BYTES = 15 * 1024 * 1024
TRACKING_FIELDS = ("first_seen", "last_seen", "last_changed")


def utc_now() -> datetime:
    """Now, at the millisecond precision that BSON dates keep."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _to_datetime(value: object) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return midnight(value)
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return None


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 time or date as an aware datetime (UTC when it names no zone); None if it is none or unreadable
    (a sitemap's lastmod, a post's modified: what a site says, not what the archive stored)."""
    try:
        return _to_datetime(value.strip() if isinstance(value, str) else value)
    except ValueError:
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


def document_size(item: Mapping[str, Any]) -> int:
    """The size in bytes of the item as the MongoDB document it becomes (more than any limit if it cannot be one)."""
    try:
        return len(bson.encode(to_document(item)))
    except (InvalidDocument, OverflowError, ValueError):
        return 2**63
