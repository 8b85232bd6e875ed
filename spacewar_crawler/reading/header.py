"""The article header as printed: the headline (once or more), a section label, the byline, the dateline.

Real pages run these parts together in every way: separate blocks, lines divided by `<br>`,
or adjacent inline elements with nothing between them, so that the page's text reads
"...: Austinby AFP Staff WritersTokyo (AFP) June 1, 2023". A header line is therefore read
as a sequence of parts, split where the markup divided the text or where two words are
glued together ("WritersTokyo", "AHMEDWashington"), never on one tag path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from spacewar_crawler.reading.dateline import Dateline, parse_dateline, split_leading_dateline
from spacewar_crawler.reading.page_text import normalize_space

BYLINE = re.compile(r"^by:?\s+(?P<who>\S.{0,150})$", re.IGNORECASE)
HEADER_DATE = re.compile(r"^date \d{4}-\d{2}-\d{2}$", re.IGNORECASE)
_BYLINE_START = re.compile(r"by:?\s", re.IGNORECASE)
_HEADER_DATE_START = re.compile(r"date \d{4}-\d{2}-\d{2}\b", re.IGNORECASE)
_CAPITAL = re.compile(r"[A-Z]")
_NON_WORD = re.compile(r"[\W_]+")
_WORD = re.compile(r"[^\W_]+")
_SEPARATORS = " |,;:\u00b7\u2022-\u2013\u2014"
# Small words inside names and lists of names: "Rio de Janeiro", "Sarah Moreau and David Lindqvist".
_NAME_PARTICLES = frozenset({"and", "&", "de", "da", "del", "der", "di", "du", "la", "le", "van", "von", "bin", "al"})
# Bylines and datelines are short: no header part ends further into a block than this.
_MAX_PART = 240


def comparable(text: str) -> str:
    """Text reduced to its letters and digits, case-folded: a headline and its print copy compare equal."""
    return _NON_WORD.sub("", text.casefold())


def is_label(text: str) -> bool:
    """A short upper-case line such as 'SUPERPOWERS': a section or group label."""
    if not 0 < len(text) <= 40 or text.upper() != text:
        return False
    return sum(c.isalpha() for c in text) >= 3


def piece_bounds(parts: list[str], text: str) -> list[int]:
    """Offsets in `text` (a block's normalized text) where a part of the markup or a glued word begins.

    `parts`: the block's text pieces (empty when it is one piece)."""
    bounds: list[int] = []
    rebuilt = ""
    space_pending = False
    for part in parts:
        piece = normalize_space(part)
        if not piece:
            space_pending = space_pending or bool(part)
            continue
        if rebuilt:
            if space_pending or part[:1].isspace():
                rebuilt += " "
            bounds.append(len(rebuilt))
        rebuilt += piece
        space_pending = part[-1:].isspace()
    if rebuilt != text:  # the block's text was changed after joining (a hyphenated line end): no markup bounds
        bounds = []
    bounds.extend(_glue_points(text, min(len(text), _MAX_PART)))
    return sorted(set(bounds))


def _glue_points(text: str, end: int) -> list[int]:
    """Where, in text[:end], a lower-case letter is glued to a capital ("WritersTokyo") or a capitalised name to an
    upper-case one ("AHMEDWashington"): two header parts printed with nothing between them.

    Each capital is looked at (a few per line) instead of running a look-behind at every position: 3x faster.
    """
    points = []
    for match in _CAPITAL.finditer(text, 1, end):
        i = match.start()
        before = text[i - 1]
        glued_to_lower = "a" <= before <= "z"
        glued_to_upper = "A" <= before <= "Z" and i >= 2 and "A" <= text[i - 2] <= "Z"
        if glued_to_lower or (glued_to_upper and i + 1 < end and "a" <= text[i + 1] <= "z"):
            points.append(i)
    return points


@dataclass
class HeaderParts:
    """What the header lines read so far have given."""

    headlines: int = 0
    label: str | None = None
    author: str | None = None
    dateline: Dateline | None = None


def read_header_line(text: str, bounds: list[int], headline_key: str, parts: HeaderParts) -> int:
    """Reads header parts from the start of `text` into `parts`; returns where the rest (body text) begins.

    0: the line is no header line; len(text): all of it was header.
    """
    ends = [b for b in bounds if 0 < b < len(text)] + [len(text)]
    first = pos = _skip_separators(text, 0)
    while True:
        pos = _skip_separators(text, pos)
        if pos >= len(text):
            return len(text)
        if (end := _headline_end(text, pos, ends, headline_key)) is not None:
            parts.headlines += 1
        elif (
            parts.label is None
            and parts.author is None
            and parts.dateline is None
            and (end := _label_end(text, pos, ends))
        ):
            parts.label = text[pos:end].strip()
        elif (match := _HEADER_DATE_START.match(text, pos)) and match.end() in ends:
            end = match.end()
        elif parts.author is None and (end := _byline_end(text, pos, ends)) is not None:
            parts.author = _author(text[pos:end])
        elif parts.dateline is None and (end := _dateline_end(text, pos, ends)) is not None:
            parts.dateline = parse_dateline(_strip_separators(text[pos:end]))
        elif parts.dateline is None and (lead := split_leading_dateline(text[pos:])):
            parts.dateline = lead[0]
            return len(text) - len(lead[1])
        else:
            return pos if pos > first else 0
        pos = end


def _skip_separators(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in _SEPARATORS:
        pos += 1
    return pos


def _strip_separators(text: str) -> str:
    return text.strip(_SEPARATORS)


def _author(text: str) -> str | None:
    match = BYLINE.match(_strip_separators(text))
    who = match.group("who").strip().rstrip(",") if match else None
    return who if who and is_name_list(who) else None


def is_name_list(text: str) -> bool:
    """Names as bylines print them ("AFP Staff Writers", "Issam AHMED", "A and B"), not a sentence ("the end of")."""
    words = text.split()
    if not 0 < len(words) <= 12 or not words[0][:1].isupper():
        return False
    return all(word[:1].isupper() or word.lower() in _NAME_PARTICLES for word in words)


def _headline_end(text: str, pos: int, ends: list[int], key: str) -> int | None:
    """End of the headline printed at `pos`: it must end where the markup or a byline/dateline starts."""
    if not key:
        return None
    if text[pos : pos + 1].casefold() != key[0] and text[pos : pos + 1].isalnum():
        return None
    end = _printed_end(text, pos, key)
    if end is None:
        return None
    while end < len(text) and not text[end].isalnum() and not text[end].isspace():
        end += 1  # the headline's closing punctuation: "...in deep space?"
    after = _skip_separators(text, end)
    if end in ends or after in ends or _BYLINE_START.match(text, after):
        return end
    return end if _starts_dateline(text, after, ends) else None


def _printed_end(text: str, pos: int, key: str) -> int | None:
    """Where the text from `pos` has spelled out `key` (a `comparable` text), word by word; None if it does not."""
    matched = 0
    for word_match in _WORD.finditer(text, pos, pos + len(key) * 3 + 20):
        word = word_match.group().casefold()
        if key.startswith(word, matched):
            matched += len(word)
            if matched == len(key):
                return word_match.end()
            continue
        rest = key[matched:]
        if word.startswith(rest) and len(word) == len(word_match.group()):  # the key ends inside this word
            return word_match.start() + len(rest)
        return None
    return None


def _label_end(text: str, pos: int, ends: list[int]) -> int | None:
    end = next(e for e in ends if e > pos)
    return end if is_label(text[pos:end].strip()) else None


def _byline_end(text: str, pos: int, ends: list[int]) -> int | None:
    """The longest byline at `pos` that ends the line or is followed by the dateline."""
    if not _BYLINE_START.match(text, pos):
        return None
    # Where the markup divides the line first, then between words; the dateline may follow, or nothing.
    # A name does not end in a comma: "by Erica Marchand Paris, France (SPX)" splits before "Paris".
    spaces = [m.start() for m in re.finditer(r"(?<!,) ", text[: pos + _MAX_PART])]
    for candidates in (ends, spaces):
        for end in sorted((e for e in candidates if pos < e < len(text) and e <= pos + _MAX_PART), reverse=True):
            if _author(text[pos:end]) and _starts_dateline(text, _skip_separators(text, end), ends):
                return end
    return len(text) if len(text) - pos <= _MAX_PART and _author(text[pos:]) else None


def _dateline_end(text: str, pos: int, ends: list[int]) -> int | None:
    for end in sorted((e for e in ends if pos < e <= pos + _MAX_PART), reverse=True):
        if parse_dateline(_strip_separators(text[pos:end])):
            return end
    return None


def _starts_dateline(text: str, pos: int, ends: list[int]) -> bool:
    return _dateline_end(text, pos, ends) is not None or split_leading_dateline(text[pos:]) is not None
