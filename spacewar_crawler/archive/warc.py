"""The raw archive: every fetched article, request and response, in rotating gzip WARC files.

Plain warcio (no Scrapy): `WarcArchive` writes exchanges, `read_response` reads one back by
file and offset. The Scrapy side is `middlewares.WarcMiddleware`.
"""

from __future__ import annotations

import fcntl
import io
import logging
import zlib
from pathlib import Path
from urllib.parse import urlsplit

from warcio.archiveiterator import ArchiveIterator
from warcio.recordloader import ArcWarcRecord
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

logger = logging.getLogger(__name__)

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
        file = path.open("xb")  # a new file, never another process's
        fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        self._current = (path, file)
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


def read_response(directory: Path, file_name: str, offset: int, url: str) -> tuple[str | None, bytes]:
    """The Content-Type and the HTTP body of the response record for `url` at `offset` in `directory/file_name`.

    A record of another URL there (a wrong offset) is refused: it is some other article's page.
    """
    with (directory / file_name).open("rb") as f:
        f.seek(offset)
        for record in ArchiveIterator(f):
            if record.rec_type != "response":
                raise ValueError(f"{file_name}@{offset} is a {record.rec_type} record, not a response")
            target = record.rec_headers.get_header("WARC-Target-URI")
            if target != url:
                raise ValueError(f"{file_name}@{offset} is the record of {target}, not of {url}")
            content_type = record.http_headers.get_header("Content-Type") if record.http_headers else None
            return content_type, record.content_stream().read()
    raise ValueError(f"no record at {file_name}@{offset}")


class OriginalNotFound(FileNotFoundError):
    """No WARC file of that name in the directories the crawls wrote to."""


class Originals:
    """The stored originals, read by WARC file name from the directories crawls wrote to, and from no other."""

    def __init__(self, directories: list[Path]) -> None:
        self.directories = list(dict.fromkeys(directories))

    def read(self, file_name: str, offset: int, url: str) -> tuple[str | None, bytes]:
        """The Content-Type and body of the response for `url` at `offset` of `file_name`."""
        if not isinstance(file_name, str) or Path(file_name).name != file_name or file_name.startswith("."):
            raise OriginalNotFound(f"not a WARC file name: {file_name!r}")
        if not isinstance(offset, int) or offset < 0:
            raise ValueError(f"not a WARC offset: {offset!r}")
        for directory in self.directories:
            if (directory / file_name).is_file():
                return read_response(directory, file_name, offset, url)
        looked = ", ".join(str(d) for d in self.directories)
        raise OriginalNotFound(f"{file_name} is not in {looked}; name its directory with -s WARC_DIR=DIR")
