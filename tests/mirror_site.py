"""The offline mirror of the site: an HTTP server on 127.0.0.1 and the hand-written expectations."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urljoin, urlsplit

MIRROR = Path(__file__).parent / "mirror"
SITE = MIRROR / "site"
EXPECTED = MIRROR / "expected"


class MirrorServer:
    """Serves a copy of the mirror's files and logs every request path it answers."""

    def __init__(self, root: Path = SITE, redirects: dict[str, str] | None = None) -> None:
        self.root = root
        self.redirects = redirects if redirects is not None else json.loads((MIRROR / "redirects.json").read_text())
        self.requests: list[str] = []
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/"

    def start(self) -> MirrorServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def requested(self, path: str) -> int:
        with self._lock:
            return self.requests.count(path)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _log(self, path: str) -> None:
        with self._lock:
            self.requests.append(path)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = urlsplit(self.path).path
                server._log(path)
                if path in server.redirects:
                    self.send_response(301)
                    self.send_header("Location", server.redirects[path])
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                file = server.root / ("index.html" if path == "/" else path.lstrip("/"))
                if ".." in path or not file.is_file():
                    body = b"<html><body><h1>404 Not Found</h1></body></html>"
                    self.send_response(404)
                else:
                    body = file.read_bytes()
                    self.send_response(200)
                kind = "text/plain" if path.endswith(".txt") else "text/html"
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


def expected_articles(base_url: str) -> dict[str, dict]:
    """The hand-written expected item of every article, keyed by absolute URL."""
    host = urlsplit(base_url).hostname
    articles: dict[str, dict] = {}
    for file in sorted(EXPECTED.glob("*.json")):
        item = json.loads(file.read_text(encoding="utf-8"))
        item["url"] = urljoin(base_url, item["url"])
        item["site"] = host
        for group in ("related", "related_links"):
            for link in item[group]:
                link["url"] = urljoin(base_url, link["url"])
        articles[item["url"]] = item
    return articles


def saved_page(path: str) -> bytes:
    return (SITE / path.lstrip("/")).read_bytes()
