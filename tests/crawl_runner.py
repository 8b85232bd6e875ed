"""Runs `scrapy crawl spacewar` the way a user or cron does: a real process, real engine."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# Tests talk only to the loopback mirror, so the politeness delays are switched off.
FAST = {"DOWNLOAD_DELAY": "0", "AUTOTHROTTLE_ENABLED": "0", "LOG_LEVEL": "INFO"}


@dataclass
class CrawlResult:
    returncode: int
    items: list[dict]
    log: str

    @property
    def stats(self) -> dict[str, int]:
        """The integer stats of the final 'Dumping Scrapy stats' block."""
        dump = self.log.rsplit("Dumping Scrapy stats", 1)[-1]
        return {key: int(value) for key, value in re.findall(r"'([\w/.-]+)': (\d+)[,}]", dump)}

    def by_url(self) -> dict[str, dict]:
        return {item["url"]: item for item in self.items}


def crawl_command(base_url: str, settings: dict[str, str], *args: str) -> list[str]:
    command = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"base_url={base_url}"]
    for name, value in {**FAST, **settings}.items():
        command += ["-s", f"{name}={value}"]
    return command + list(args)


def crawl_env(mongo_uri: str | None) -> dict[str, str]:
    """The environment of a crawl: this one's, with MONGO_URI set (or unset) explicitly."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGO_")}
    if mongo_uri:
        env["MONGO_URI"] = mongo_uri
    return env


def run_crawl(
    base_url: str,
    tmp_path: Path,
    *args: str,
    settings: dict[str, str] | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 240,
) -> CrawlResult:
    out = tmp_path / "items.jsonl"
    out.unlink(missing_ok=True)
    command = crawl_command(base_url, {"WARC_DIR": str(tmp_path / "warc"), **(settings or {})}, "-O", str(out), *args)
    full_env = crawl_env(None)
    full_env.update(env or {})
    done = subprocess.run(command, cwd=REPO, env=full_env, capture_output=True, text=True, timeout=timeout)
    items = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] if out.exists() else []
    return CrawlResult(done.returncode, items, done.stderr)
