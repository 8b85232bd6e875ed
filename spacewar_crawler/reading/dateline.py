"""Datelines ("Beijing (AFP) May 15, 2025") and the date formats the network prints."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

MONTHS = {
    "jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
    "jul": 7, "aug": 8, "sep": 9, "oct": 10, "nov": 11, "dec": 12,
}  # fmt: skip

_MONTH = (
    r"(?P<month>Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)"
)
_DATE = rf"{_MONTH}\.?\s+(?P<day>\d{{1,2}}),?\s+(?P<year>\d{{4}})"
# Place: starts with a letter, no brackets, short. Agency: a short bracketed name.
_DATELINE = rf"(?P<place>[^\W\d_][^()\n]{{0,60}}?)\s*(?:\((?P<agency>[^()]{{1,30}})\))?\s*,?\s+{_DATE}"
_DATELINE_LINE = re.compile(rf"^{_DATELINE}$", re.IGNORECASE)
# The text may follow after a dash ("May 12, 2025 - Russia ...") or straight after the date, as real
# teasers print it ("Feb 3, 2026 Elon Musk said ..."): then it starts with a capital or a quote.
_DATELINE_LEAD = re.compile(
    rf"^(?P<dateline>{_DATELINE})(?:\s+[-\u2013\u2014]+\s+|\s+(?=(?-i:[A-Z0-9])|[\"'\u201c\u2018]))(?P<rest>\S.*)$",
    re.IGNORECASE | re.DOTALL,
)
_YEAR = re.compile(r"\d{4}")
# Far beyond the longest dateline the pattern reads (place 61, agency 32, date 20 characters, and the spaces).
_MAX_DATELINE = 400
_ISO_DATE = re.compile(r"(?<!\d)(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2})(?!\d)")


@dataclass(frozen=True)
class Dateline:
    raw: str
    location: str
    agency: str | None
    date: date | None
    """None when the printed date does not exist (e.g. Feb 30)."""


def _make_date(year: str, month: str, day: str) -> date | None:
    month_number = int(month) if month.isdigit() else MONTHS[month[:3].lower()]
    try:
        return date(int(year), month_number, int(day))
    except ValueError:
        return None


def _from_match(match: re.Match[str], raw: str) -> Dateline:
    agency = match.group("agency")
    return Dateline(
        raw=raw,
        location=match.group("place").strip().rstrip(","),
        agency=agency.strip() if agency else None,
        date=_make_date(match.group("year"), match.group("month"), match.group("day")),
    )


def _plausible_place(match: re.Match[str]) -> bool:
    # Place names are capitalised ("Rio de Janeiro" has one small word); sentences are not.
    small_words = [w for w in match.group("place").split() if w[:1].islower()]
    return len(small_words) <= 1


def parse_dateline(line: str) -> Dateline | None:
    """A whole line that is a dateline: 'Place (Agency) Mon DD, YYYY' (agency optional)."""
    line = line.strip()
    if not line[-4:].isdigit():  # the year ends every dateline: most lines are ruled out before the regex
        return None
    match = _DATELINE_LINE.match(line)
    if match is None or not _plausible_place(match):
        return None
    return _from_match(match, line)


def split_leading_dateline(paragraph: str) -> tuple[Dateline, str] | None:
    """A paragraph that opens with a dateline ('Moscow (AFP) May 12, 2025 - Russia ...', '... 2026 Elon Musk')."""
    paragraph = paragraph.strip()
    if not _YEAR.search(paragraph, 0, _MAX_DATELINE):  # most paragraphs: ruled out before the regex
        return None
    match = _DATELINE_LEAD.match(paragraph)
    if not match:
        return None
    dateline = match.group("dateline")
    inner = _DATELINE_LINE.match(dateline)
    if inner is None or not _plausible_place(inner):
        return None
    return _from_match(inner, dateline), match.group("rest").strip()


def parse_iso_date(text: str) -> date | None:
    """The first YYYY-MM-DD date in `text` (meta tags, the 'date 2025-05-15' page header)."""
    match = _ISO_DATE.search(text)
    return _make_date(match.group("year"), match.group("month"), match.group("day")) if match else None


# Zone abbreviations seen in the network's feeds ("Thu, 17 OCT 2024 22:40:13 AEST").
_ZONES = {
    "AEST": 10, "AEDT": 11, "ACST": 9.5, "AWST": 8, "GMT": 0, "UTC": 0, "UT": 0, "Z": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "CET": 1, "CEST": 2, "BST": 1,
}  # fmt: skip
_FEED_DATE = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?(?P<day>\d{1,2})\s+(?P<month>[A-Za-z]{3,9})\.?\s+(?P<year>\d{4})"
    r"(?:\s+(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?)?\s*(?P<zone>[A-Za-z]{1,5}|[+-]\d{4})?$"
)


def parse_feed_date(text: str) -> datetime | None:
    """An RSS date in its own zone, tolerating upper-case months and zone abbreviations; None if unreadable.

    Its calendar date is the date the feed means ("Wed, 14 MAY 2025 09:30:00 AEST" is May 14, not the UTC May 13).
    """
    match = _FEED_DATE.match(text.strip())
    if not match or match.group("month")[:3].lower() not in MONTHS:
        return None
    zone = (match.group("zone") or "UTC").upper()
    if zone[0] in "+-":
        offset = (1 if zone[0] == "+" else -1) * (int(zone[1:3]) + int(zone[3:5]) / 60)
    elif zone in _ZONES:
        offset = _ZONES[zone]
    else:
        return None
    try:
        local = datetime(
            int(match.group("year")),
            MONTHS[match.group("month")[:3].lower()],
            int(match.group("day")),
            int(match.group("h") or 0),
            int(match.group("m") or 0),
            int(match.group("s") or 0),
            tzinfo=timezone(timedelta(hours=offset)),
        )
        local.astimezone(UTC)  # a date the zone shift moves out of range (9999 -1200) is no date
    except (ValueError, OverflowError):
        return None
    return local
