"""The raw archive: every fetched article, request and response, in rotating gzip WARC files.

`WarcArchive` is plain warcio (no Scrapy): it writes exchanges and reads one back by file
and offset. `WarcMiddleware` is the Scrapy side: it records each article response as it
arrives and tells the spider where it went (`request.meta["warc_location"]`).
"""

from __future__ import annotations

import io
import logging
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from scrapy import signals
from scrapy.exceptions import NotConfigured
from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from spacewar_crawler.incremental import ARTICLE_META

if TYPE_CHECKING:
    from scrapy import Request, Spider
    from scrapy.crawler import Crawler
    from scrapy.http import Response

logger = logging.getLogger(__name__)

LOCATION_META = "warc_location"
# The body is stored as Scrapy hands it over: already decoded from gzip/br and unchunked.
_DROPPED_HEADERS = {b"content-encoding", b"transfer-encoding", b"content-length"}


class WarcArchive:
    """Appends request/response pairs to `<prefix>-NNNNN.warc.gz` files under `directory`."""

    def __init__(self, directory: Path, prefix: str, max_bytes: int, software: str, compression_level: int = 1) -> None:
        self.directory = directory
        self.prefix = prefix
        self.max_bytes = max_bytes
        self.software = software
        self.compression_level = compression_level
        self._sequence = 0
        self._current: tuple[Path, io.BufferedWriter] | None = None
        self._records = WARCWriter(io.BytesIO(), gzip=False)  # makes records; writing is ours

    def _file(self) -> tuple[Path, io.BufferedWriter]:
        """The file being written, or a new one once it has reached `max_bytes`."""
        if self._current is not None and self._current[1].tell() < self.max_bytes:
            return self._current
        self.close()
        self._sequence += 1
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{self.prefix}-{self._sequence:05d}.warc.gz"
        self._current = (path, path.open("ab"))
        info = {"software": self.software, "format": "WARC File Format 1.0"}
        self._write(self._records.create_warcinfo_record(path.name, info))
        return self._current

    def _write(self, record: ArcWarcRecord) -> None:
        """One record as one gzip member (what WARC readers expect), at our compression level.

        warcio's own gzip writer always compresses at level 9: several times slower per
        page than level 1, for files about a sixth smaller.
        """
        assert self._current is not None
        buffer = io.BytesIO()
        WARCWriter(buffer, gzip=False).write_record(record)
        compressor = zlib.compressobj(self.compression_level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
        self._current[1].write(compressor.compress(buffer.getvalue()) + compressor.flush())

    def write_exchange(
        self,
        url: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        method: str = "GET",
    ) -> tuple[str, int]:
        """Write a response record and its request record; returns (file name, offset of the response)."""
        path, file = self._file()
        headers = [(k, v) for k, v in response_headers if k.lower().encode() not in _DROPPED_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol="HTTP/1.1")
        records = self._records
        response = records.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http_headers)
        target = urlsplit(url)
        request_line = f"{method} {target.path or '/'}{'?' + target.query if target.query else ''} HTTP/1.1"
        request = records.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            http_headers=StatusAndHeaders(request_line, request_headers, is_http_request=True),
        )
        request.rec_headers.add_header("WARC-Concurrent-To", response.rec_headers.get_header("WARC-Record-ID"))
        offset = file.tell()
        self._write(response)
        self._write(request)
        file.flush()
        return path.name, offset

    def close(self) -> None:
        if self._current is not None:
            self._current[1].close()
        self._current = None


def read_response(directory: Path, file_name: str, offset: int) -> tuple[str | None, bytes]:
    """The Content-Type and the HTTP body of the response record at `offset` in `directory/file_name`."""
    with (directory / file_name).open("rb") as f:
        f.seek(offset)
        for record in ArchiveIterator(f):
            if record.rec_type != "response":
                raise ValueError(f"{file_name}@{offset} is a {record.rec_type} record, not a response")
            content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
            return content_type, record.content_stream().read()
    raise ValueError(f"no record at {file_name}@{offset}")


class WarcMiddleware:
    """Downloader middleware: writes every article response (200) to the WARC archive."""

    def __init__(self, archive: WarcArchive) -> None:
        self.archive = archive

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcMiddleware:
        settings = crawler.settings
        if not settings.getbool("WARC_ENABLED"):
            raise NotConfigured("WARC_ENABLED is off")
        prefix = f"spacewar-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"
        archive = WarcArchive(
            Path(settings.get("WARC_DIR")),
            prefix,
            settings.getint("WARC_MAX_BYTES"),
            settings.get("USER_AGENT"),
            settings.getint("WARC_COMPRESSION_LEVEL"),
        )
        middleware = cls(archive)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(ARTICLE_META) and response.status == 200:
            location = self.archive.write_exchange(
                response.url,
                _header_pairs(request.headers),
                response.status,
                "OK",
                _header_pairs(response.headers),
                response.body,
                request.method,
            )
            request.meta[LOCATION_META] = {"file": location[0], "offset": location[1]}
        return response

    def spider_closed(self, spider: Spider) -> None:
        self.archive.close()


def _header_pairs(headers: Any) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, values in headers.items() for value in values]
