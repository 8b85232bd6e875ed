"""The offline mirror of the site: an HTTP server on 127.0.0.1 and the hand-written expectations."""

from __future__ import annotations

import hashlib
import json
import socket
import struct
import threading
import time
from dataclasses import dataclass
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

MIRROR = Path(__file__).parent / "mirror"
SITE = MIRROR / "site"
EXPECTED = MIRROR / "expected"
# A WordPress-generation site (2026): posts at /slug/, sitemaps, feeds, the REST API, old URLs that redirect.
WORDPRESS = Path(__file__).parent / "wordpress"
WORDPRESS_SITE_URL = "https://spacedaily.com/"
# Where the parser tests read the fixtures from (the pages' own absolute links are pointed there).
FIXTURE_BASE = "http://127.0.0.1:8000"
# Pages of layouts the mirror does not carry, each beside its expected item (NAME.html, NAME.json), by layout.
LAYOUT_FIXTURES = Path(__file__).parent / "layouts"


class _HTTPServer(ThreadingHTTPServer):
    # A web server's listen backlog (nginx: 511), not socketserver's 5. With no download delay, Scrapy 2.19 starts
    # every queued request of a site at once (up to CONCURRENT_REQUESTS), and when the accept thread lags, a full
    # backlog drops the SYN: the client retransmits after 1 s, a spurious timeout where a test sets a 1 s limit.
    request_queue_size = 128


class MirrorServer:
    """Serves a copy of the mirror's files, with ETag/Last-Modified and 304s, and logs every request."""

    def __init__(
        self,
        root: Path = SITE,
        redirects: dict[str, str] | None = None,
        site_url: str = "http://www.spacewar.com/",
        host: str = "127.0.0.1",
    ) -> None:
        self.root = root
        self.redirects = redirects if redirects is not None else json.loads((MIRROR / "redirects.json").read_text())
        # The root URL the saved pages' absolute links use: pointed at this server, as a mirroring tool does.
        self.site_url = site_url.encode()
        self.host = host
        """The name the server is reached by (always on 127.0.0.1): "localhost" makes a second site of another host."""
        # Other sites' root URLs in the pages, pointed at their mirrors: {b"https://www.terradaily.com/": b"..."}.
        self.rewrites: dict[bytes, bytes] = {}
        # Network faults by path: "status:503", "flaky:500" (once), "timeout:SECONDS", "reset".
        self.faults: dict[str, str] = {}
        self.latency = 0.0
        # Extra response headers by path (a gzip bomb's Content-Encoding).
        self.headers: dict[str, dict[str, str]] = {}
        self.requests: list[str] = []
        # The most requests the server was answering at one time: what "N requests at a time per site" means.
        self.max_in_flight = 0
        self._in_flight = 0
        self.responses: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._httpd = _HTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._httpd.server_address[1]}/"

    def start(self) -> MirrorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def requested(self, path: str) -> int:
        with self._lock:
            return self.requests.count(path)

    def statuses(self, path: str) -> list[int]:
        with self._lock:
            return [status for p, status in self.responses if p == path]

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()
            self.responses.clear()

    def _log(self, path: str, status: int) -> None:
        with self._lock:
            self.requests.append(path)
            self.responses.append((path, status))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                with server._lock:
                    server._in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server._in_flight)
                try:
                    self._serve(urlsplit(self.path).path)
                finally:
                    with server._lock:
                        server._in_flight -= 1

            def _serve(self, path: str) -> None:
                time.sleep(server.latency)
                if path in server.faults and self._fault(path, server.faults[path]):
                    return
                if path in server.redirects:
                    self._answer(path, 301, b"", {"Location": server.redirects[path]})
                    return
                file = server.root / path.lstrip("/")
                if file.is_dir():  # /slug/, /feed/, /wp-json/wp/v2/posts: the directory's index, as WordPress routes
                    indexes = (file / "index.html", file / "index.xml", file / "index.json")
                    file = next((f for f in indexes if f.is_file()), file)
                if ".." in path or not file.is_file():
                    self._answer(path, 404, b"<html><body><h1>404 Not Found</h1></body></html>")
                    return
                # Like a mirroring tool, point the pages' absolute site links at this server.
                body = file.read_bytes().replace(server.site_url, server.url.encode())
                for other, mirror in server.rewrites.items():
                    body = body.replace(other, mirror)
                etag = '"' + hashlib.sha1(body).hexdigest() + '"'
                modified = formatdate(file.stat().st_mtime, usegmt=True)
                validators = {"ETag": etag, "Last-Modified": modified}
                if self.headers.get("If-None-Match") == etag or (
                    self.headers.get("If-None-Match") is None and self.headers.get("If-Modified-Since") == modified
                ):
                    self._answer(path, 304, b"", validators)
                    return
                kind = {".txt": "text/plain", ".xml": "application/rss+xml", ".json": "application/json"}.get(
                    file.suffix, "text/html"
                )
                self._answer(path, 200, body, {"Content-Type": kind, **validators, **server.headers.get(path, {})})

            def _fault(self, path: str, fault: str) -> bool:
                """Act out a fault; False when the request is to be answered normally."""
                kind, _, value = fault.partition(":")
                if kind == "status":
                    self._answer(path, int(value), b"<html><body>Server error</body></html>")
                elif kind == "flaky":
                    del server.faults[path]
                    self._answer(path, int(value), b"<html><body>Try again</body></html>")
                elif kind == "timeout":
                    server._log(path, 0)
                    time.sleep(float(value))
                    self.close_connection = True
                elif kind == "reset":
                    server._log(path, 0)
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", "100000")
                    self.end_headers()
                    self.wfile.write(b"<html><head><title>Cut off</title></head><body><p>The connection was")
                    self.wfile.flush()
                    self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    self.connection.close()
                    self.close_connection = True
                else:
                    return False
                return True

            def _answer(self, path: str, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                server._log(path, status)
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def expected_articles(base_url: str, expected: Path = EXPECTED) -> dict[str, dict]:
    """The hand-written expected item of every article (of the mirror, or of the WordPress mirror: WORDPRESS /
    "expected"), keyed by absolute URL."""
    host = urlsplit(base_url).hostname
    articles: dict[str, dict] = {}
    for file in sorted(expected.glob("*.json")):
        item = json.loads(file.read_text(encoding="utf-8"))
        item["url"] = urljoin(base_url, item["url"])
        item["site"] = host
        for group in ("related", "related_links"):
            for link in item[group]:
                link["url"] = urljoin(base_url, link["url"])
        item["aliases"] = [urljoin(base_url, alias) for alias in item["aliases"]]
        item["images"] = [{**image, "url": urljoin(base_url, image["url"])} for image in item["images"]]
        articles[item["url"]] = item
    return articles


def saved_page(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_bytes()


@dataclass(frozen=True)
class Fixture:
    """A saved article page and the item a reader would write down for it (URLs relative to the site)."""

    path: str
    html: bytes
    expected: dict

    @property
    def name(self) -> str:
        return self.path.rstrip("/").rsplit("/", 1)[1]


def wordpress_page(path: str, site_url: str) -> bytes:
    """A post of the WordPress mirror, its absolute links pointed at `site_url`."""
    page = WORDPRESS / "site" / path.strip("/") / "index.html"
    return page.read_bytes().replace(WORDPRESS_SITE_URL.encode(), site_url.encode())


def fixtures() -> list[Fixture]:
    """Every article page with an expectation: the mirror's, the WordPress mirror's and the other layouts'
    (tests/layouts/)."""
    found = []
    for file in sorted((WORDPRESS / "expected").glob("*.json")):
        expected = json.loads(file.read_text(encoding="utf-8"))
        found.append(Fixture(expected["url"], wordpress_page(expected["url"], FIXTURE_BASE + "/"), expected))
    for file in sorted([*EXPECTED.glob("*.json"), *LAYOUT_FIXTURES.glob("*/*.json")]):
        expected = json.loads(file.read_text(encoding="utf-8"))
        beside = file.with_suffix(".html")
        html = beside.read_bytes() if beside.exists() else saved_page(expected["url"])
        found.append(Fixture(expected["url"], html, expected))
    return found
