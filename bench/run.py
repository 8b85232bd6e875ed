"""Run the benchmarks and write docs/benchmarks.md.

Every measurement is the median of --repeat runs (extraction: of --extraction-rounds passes, after an
untimed one); each ratio is computed pair by pair (ours / baseline in the same repetition, runs
interleaved) and the median ratio reported.
Everything runs on this machine, against servers on 127.0.0.1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import scrapy
import trafilatura
from generate_site import generate  # bench/ is on the path when run as `python3 bench/run.py`

from spacewar_crawler.archive.articles import ArticleQuery
from spacewar_crawler.archive.documents import to_document
from spacewar_crawler.archive.mongo import MongoArchive, mask_uri
from spacewar_crawler.items import ArticleItem
from spacewar_crawler.reading.article import content_hash
from spacewar_crawler.reading.page_text import decode_html
from spacewar_crawler.reading.pages import extract_article

REPO = Path(__file__).resolve().parent.parent

MIRROR = REPO / "tests" / "mirror"
CRAWL_SETTINGS = {
    "DOWNLOAD_DELAY": "0",
    "AUTOTHROTTLE_ENABLED": "0",
    "CONCURRENT_REQUESTS": "16",
    "CONCURRENT_REQUESTS_PER_DOMAIN": "16",
    "LOG_LEVEL": "INFO",
    "TELNETCONSOLE_ENABLED": "0",
}


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


def wait_for_port(port: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@contextmanager
def static_server(root: Path) -> Iterator[str]:
    """Twisted's static file server (twist web), a fast server for the generated site."""
    port = free_port()
    process = subprocess.Popen(
        ["twist", "web", "--path", str(root), "--listen", f"tcp:{port}:interface=127.0.0.1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(10)


@contextmanager
def stand_in(directory: Path) -> Iterator[str]:
    """nx-27017 on a free loopback port with a fresh data directory."""
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(
        ["nx-27017", "--data-dir", str(directory / "db"), "-p", str(port), "--log-file", str(directory / "log"),
         "--pid-file", str(directory / "pid")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port)
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        process.terminate()
        process.wait(10)


@dataclass
class CrawlRun:
    pages: int
    seconds: float
    peak_rss_mb: float
    items: int

    @property
    def pages_per_second(self) -> float:
        return self.pages / self.seconds


def run_crawl(command: list[str], cwd: Path, env: dict[str, str]) -> CrawlRun:
    """One crawl in a child process: its stats, and its peak RSS from the kernel (wait4)."""
    with tempfile.TemporaryFile("w+") as log:
        process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=log)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        log.seek(0)
        text = log.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:5])} exited {process.returncode}:\n{text[-2000:]}")
    dump = text.rsplit("Dumping Scrapy stats", 1)[-1]
    stat = dict(re.findall(r"'([\w/.-]+)': ([\d.]+)[,}]", dump))
    return CrawlRun(
        pages=int(stat["response_received_count"]),
        seconds=float(stat["elapsed_time_seconds"]),
        peak_rss_mb=usage.ru_maxrss / 1024,
        items=int(stat.get("item_scraped_count", 0)),
    )


def crawl_env(mongo_uri: str | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MONGO_")}
    if mongo_uri:
        env["MONGO_URI"] = mongo_uri
    return env


def our_crawl(base_url: str, work: Path, mongo_uri: str | None, **settings: str) -> CrawlRun:
    command = [sys.executable, "-m", "scrapy", "crawl", "spacewar", "-a", f"base_url={base_url}"]
    merged = {**CRAWL_SETTINGS, "WARC_DIR": str(work / "warc"), "JOBDIR": "", **settings}
    if not mongo_uri:
        merged["MONGO_ENABLED"] = "0"
    for name, value in merged.items():
        if value != "":
            command += ["-s", f"{name}={value}"]
    return run_crawl(command, REPO, crawl_env(mongo_uri))


def bare_crawl(base_url: str, work: Path) -> CrawlRun:
    command = [sys.executable, "-m", "scrapy", "runspider", str(REPO / "bench" / "bare_spider.py"), "-a",
               f"base_url={base_url}"]  # fmt: skip
    for name, value in {**CRAWL_SETTINGS, "ROBOTSTXT_OBEY": "1"}.items():
        command += ["-s", f"{name}={value}"]
    work.mkdir(parents=True, exist_ok=True)
    return run_crawl(command, work, crawl_env())  # outside the project: Scrapy's defaults only


def median(values: list[float]) -> float:
    return statistics.median(values)


def tokens(text: str) -> Counter[str]:
    return Counter(re.findall(r"\w+", text.lower()))


def f1(predicted: str, gold: str) -> float:
    p, g = tokens(predicted), tokens(gold)
    overlap = sum((p & g).values())
    if not overlap:
        return 0.0
    precision, recall = overlap / sum(p.values()), overlap / sum(g.values())
    return 2 * precision * recall / (precision + recall)


def ours_extract(content: bytes, url: str) -> str:
    """The whole extraction path, as the crawl runs it: the finished, cleaned item."""
    item = extract_article(content, url).result
    return item.body or "" if isinstance(item, ArticleItem) else ""


def trafilatura_extract(content: bytes, url: str) -> str:
    # trafilatura gets the page decoded the way our parser decodes it.
    return trafilatura.extract(decode_html(content), url=url) or ""


def time_per_page(extract: Callable[[bytes, str], str], pages: list[tuple[bytes, str]], repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for content, url in pages:
            extract(content, url)
        runs.append((time.perf_counter() - start) * 1000 / len(pages))
    return median(runs)


def generated_pages(site: Path, count: int = 300) -> list[tuple[bytes, str]]:
    return [(p.read_bytes(), "http://127.0.0.1:8000/reports/" + p.name) for p in sorted(site.glob("reports/*"))[:count]]


def bench_extraction(rounds: int, realistic: Path, long_bodies: Path) -> dict[str, float]:
    """Per-page times of both extractors in `rounds` paired passes (ours, then trafilatura, over the same pages);
    the speed-up is the median of the rounds' ratios, so that a slow moment of the machine hits both sides."""
    gold = []
    for file in sorted((MIRROR / "expected").glob("*.json")):
        expected = json.loads(file.read_text(encoding="utf-8"))
        url = "http://127.0.0.1:8000" + expected["url"]
        gold.append(((MIRROR / "site" / expected["url"].lstrip("/")).read_bytes(), url, expected["body"]))
    pages = [(content, url) for content, url, _ in gold]
    big, long = generated_pages(realistic), generated_pages(long_bodies)
    result = {
        "pages": len(pages),
        "big_pages": len(big),
        "ours_f1": statistics.mean(f1(ours_extract(c, u), g) for c, u, g in gold),
        "trafilatura_f1": statistics.mean(f1(trafilatura_extract(c, u), g) for c, u, g in gold),
    }
    for name, page_set in (("", pages), ("big_", big), ("long_", long)):
        # One untimed pass each first: a first pass pays for caches and lazily built state, not for extraction.
        time_per_page(ours_extract, page_set, 1), time_per_page(trafilatura_extract, page_set, 1)
        ours, theirs, ratios = [], [], []
        for _ in range(rounds):
            o, t = time_per_page(ours_extract, page_set, 1), time_per_page(trafilatura_extract, page_set, 1)
            ours.append(o), theirs.append(t), ratios.append(t / o)
        result.update({f"ours_{name}ms": median(ours), f"trafilatura_{name}ms": median(theirs)})
        result[f"{name}speedup"] = median(ratios)
    return result


def sample_items(count: int, body_bytes: int = 5000) -> list[dict]:
    items = []
    for i in range(count):
        body = (f"Paragraph {i} about missile defense and satellites. " * (body_bytes // 50))[:body_bytes]
        title = f"Benchmark article {i}"
        items.append({
            "url": f"https://www.spacewar.com/reports/Benchmark_article_{i}_999.html", "site": "www.spacewar.com",
            "section": "Superpowers" if i % 8 == 0 else f"Section {i % 8}",
            "section_slug": "superpowers" if i % 8 == 0 else f"section-{i % 8}", "title": title,
            "author": "Staff Writers", "dateline": "Washington (UPI) May 15, 2025", "location": "Washington",
            "agency": "UPI", "published": f"20{10 + i % 15:02d}-{1 + i % 12:02d}-{1 + i % 28:02d}", "body": body,
            "images": [], "related": [], "related_links": [], "content_hash": content_hash(title, body),
            "fetched_at": "2026-11-29T09:00:00Z",
        })  # fmt: skip
    return items


@contextmanager
def storage_server(real_uri: str | None, work: Path, name: str) -> Iterator[tuple[str, str]]:
    """(uri, database): a fresh stand-in, or a fresh database on the real server of --mongo-uri (dropped after)."""
    if real_uri is None:
        with stand_in(work / name) as uri:
            yield uri, "bench"
        return
    database = f"spacewar_bench_{name}"
    archive = MongoArchive(real_uri, database, "articles", connect_timeout=5.0)
    archive.client.drop_database(database)
    try:
        yield real_uri, database
    finally:
        archive.client.drop_database(database)
        archive.close()


def bench_storage(work: Path, count: int, real_uri: str | None) -> dict[int, float]:
    items = sample_items(count)
    rates: dict[int, float] = {}
    for batch in (1, 100, 1000):
        with storage_server(real_uri, work, f"storage_{batch}") as (uri, database):
            archive = MongoArchive(uri, database, "articles", connect_timeout=5.0)
            archive.ensure_indexes()
            start = time.perf_counter()
            for i in range(0, len(items), batch):
                archive.articles.upsert_batch(items[i : i + batch])
            rates[batch] = len(items) / (time.perf_counter() - start)
            archive.close()
    return rates


def bench_query(work: Path, documents: int, repeat: int, real_uri: str | None) -> dict[str, float]:
    with storage_server(real_uri, work, "query") as (uri, database):
        archive = MongoArchive(uri, database, "articles", connect_timeout=5.0)
        items = sample_items(documents, body_bytes=2000)
        for i in range(0, len(items), 1000):
            archive.articles.collection.insert_many([to_document(item) for item in items[i : i + 1000]])
        archive.ensure_indexes()
        timings = []
        for _ in range(repeat * 3):
            start = time.perf_counter()
            found = list(archive.articles.find(ArticleQuery(section="superpowers"), limit=20))
            timings.append((time.perf_counter() - start) * 1000)
        assert len(found) == 20
        cli = []
        for _ in range(repeat):
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "spacewar_crawler", "query", "--section", "superpowers", "--limit", "20",
                 "--mongo-uri", uri, "--db", database],
                cwd=REPO, check=True, capture_output=True,
            )  # fmt: skip
            cli.append(time.perf_counter() - start)
        archive.close()
    return {"documents": documents, "find_ms": median(timings), "command_s": median(cli)}


def machine() -> str:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    meminfo = Path("/proc/meminfo").read_text().splitlines()
    memory = next((int(line.split()[1]) // 1024 // 1024 for line in meminfo if line.startswith("MemTotal")), 0)
    return (
        f"{cpu}, {os.cpu_count()} CPUs, {memory} GiB RAM; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}, Scrapy {scrapy.__version__}, trafilatura {trafilatura.__version__}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--articles", type=int, default=5000, help="generated articles in the large site")
    parser.add_argument("--small", type=int, default=1000, help="generated articles in the small site (memory)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--extraction-rounds", type=int, default=15, help="paired timing passes over each page set (extraction)"
    )
    parser.add_argument("--storage-items", type=int, default=2000)
    parser.add_argument("--query-documents", type=int, default=20000)
    parser.add_argument(
        "--mongo-uri", help="a real MongoDB for the storage and query measurements (default: the nx-27017 stand-in)"
    )
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "benchmarks.md")
    args = parser.parse_args()
    started = time.monotonic()
    results: dict[str, object] = {"machine": machine(), "args": vars(args) | {"out": str(args.out)}}
    with tempfile.TemporaryDirectory(prefix="spacewar-bench-") as tmp:
        work = Path(tmp)
        print("generating sites ...", flush=True)
        large = generate(work / "large", args.articles, seed=2025)
        small = generate(work / "small", args.small, seed=2025)
        long = generate(work / "long", args.articles, seed=2025, body_padding=True)
        results["sites"] = {"large": large, "small": small, "long": long}
        print("extraction ...", flush=True)
        results["extraction"] = bench_extraction(args.extraction_rounds, work / "large", work / "long")
        print("crawls ...", flush=True)
        crawl: dict[str, list[CrawlRun]] = {k: [] for k in ("bare", "off", "warc", "store", "long_bare", "long_off")}
        with static_server(work / "large") as site:
            for i in range(args.repeat):
                bare = bare_crawl(site, work / f"bare-{i}")
                off = our_crawl(site, work / f"off-{i}", None, WARC_ENABLED="0")
                warc = our_crawl(site, work / f"warc-{i}", None, WARC_ENABLED="1")
                with stand_in(work / f"store-{i}") as uri:
                    store = our_crawl(site, work / f"store-{i}", uri)
                (
                    crawl["bare"].append(bare),
                    crawl["off"].append(off),
                    crawl["warc"].append(warc),
                    crawl["store"].append(store),
                )
                print(
                    f"  run {i + 1}: bare {bare.pages_per_second:.0f} p/s, ours {off.pages_per_second:.0f} p/s, "
                    f"stored {store.pages_per_second:.0f} p/s, warc x{warc.seconds / off.seconds:.2f}",
                    flush=True,
                )
        with static_server(work / "long") as site:
            for i in range(args.repeat):
                bare = bare_crawl(site, work / f"long-bare-{i}")
                off = our_crawl(site, work / f"long-off-{i}", None, WARC_ENABLED="0")
                crawl["long_bare"].append(bare), crawl["long_off"].append(off)
                print(
                    f"  long bodies, run {i + 1}: bare {bare.pages_per_second:.0f} p/s,"
                    f" ours {off.pages_per_second:.0f} p/s",
                    flush=True,
                )
        with static_server(work / "small") as site:
            small_rss = []
            for i in range(args.repeat):
                with stand_in(work / f"small-{i}") as uri:
                    small_rss.append(our_crawl(site, work / f"small-{i}", uri).peak_rss_mb)
        results["crawl"] = crawl
        results["memory"] = {
            "small_mb": median(small_rss),
            "large_mb": median([r.peak_rss_mb for r in crawl["store"]]),
        }
        print("storage ...", flush=True)
        results["storage"] = bench_storage(work, args.storage_items, args.mongo_uri)
        print("query ...", flush=True)
        results["query"] = bench_query(work, args.query_documents, args.repeat, args.mongo_uri)
    results["minutes"] = (time.monotonic() - started) / 60
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(render(results), encoding="utf-8")
    print(f"wrote {args.out}")


def render(r: dict) -> str:
    ex, cr, mem, st, q = r["extraction"], r["crawl"], r["memory"], r["storage"], r["query"]
    bare_pps = median([x.pages_per_second for x in cr["bare"]])
    off_pps = median([x.pages_per_second for x in cr["off"]])
    store_pps = median([x.pages_per_second for x in cr["store"]])

    def paired(ours: str, baseline: str, measure: Callable[[CrawlRun, CrawlRun], float]) -> float:
        """The median of one ratio per repetition: each run against the baseline run beside it."""
        return median([measure(o, b) for o, b in zip(cr[ours], cr[baseline], strict=True)])

    def speed(o: CrawlRun, b: CrawlRun) -> float:
        return o.pages_per_second / b.pages_per_second

    ratio_off, ratio_store = paired("off", "bare", speed), paired("store", "bare", speed)
    warc_cost = paired("warc", "off", lambda o, b: o.seconds / b.seconds)
    memory_ratio = mem["large_mb"] / mem["small_mb"]
    storage_ratio = st[100] / st[1]
    long_bare = median([x.pages_per_second for x in cr["long_bare"]])
    long_off, ratio_long = median([x.pages_per_second for x in cr["long_off"]]), paired("long_off", "long_bare", speed)
    server = mask_uri(r["args"]["mongo_uri"]) if r["args"]["mongo_uri"] else "the nx-27017 stand-in"

    def met(ok: bool) -> str:
        return "yes" if ok else "**no**"

    large, small, long = r["sites"]["large"], r["sites"]["small"], r["sites"]["long"]
    per_run = {
        name: ", ".join(f"{x.pages_per_second:.0f}" for x in cr[name])
        for name in ("bare", "off", "store", "long_bare", "long_off")
    }
    rows = [
        ("crawl, storage off (pages/s)", f"{off_pps:.0f}", f"bare Scrapy spider {bare_pps:.0f}",
         f"{ratio_off:.2f} x", ">= 0.8 x", met(ratio_off >= 0.8)),
        ("crawl into the nx-27017 stand-in (pages/s)", f"{store_pps:.0f}", f"bare Scrapy spider {bare_pps:.0f}",
         f"{ratio_store:.2f} x", "", ""),
        ("crawl, storage off, long-body site (pages/s)", f"{long_off:.0f}", f"bare Scrapy spider {long_bare:.0f}",
         f"{ratio_long:.2f} x", "", ""),
        ("WARC output (crawl time, storage off)", "with WARC", "without", f"{warc_cost:.2f} x", "< 1.15 x",
         met(warc_cost < 1.15)),
        ("extraction + cleaning, mirror pages (ms/page)", f"{ex['ours_ms']:.2f}",
         f"trafilatura {ex['trafilatura_ms']:.2f}", f"{ex['speedup']:.1f} x faster", ">= 5 x", met(ex["speedup"] >= 5)),
        (f"extraction + cleaning, {ex['big_pages']} generated pages (ms/page)", f"{ex['ours_big_ms']:.2f}",
         f"trafilatura {ex['trafilatura_big_ms']:.2f}", f"{ex['big_speedup']:.1f} x faster", "", ""),
        (f"extraction + cleaning, {ex['big_pages']} long-body pages (ms/page)", f"{ex['ours_long_ms']:.2f}",
         f"trafilatura {ex['trafilatura_long_ms']:.2f}", f"{ex['long_speedup']:.1f} x faster", "", ""),
        (f"body token F1 vs hand-written expectations ({ex['pages']} pages)", f"{ex['ours_f1']:.3f}",
         f"trafilatura {ex['trafilatura_f1']:.3f}", "", ">= trafilatura", met(ex["ours_f1"] >= ex["trafilatura_f1"])),
        ("peak RSS of the crawl process, into the stand-in (MB)", f"{mem['large_mb']:.0f} at {large['articles']}",
         f"{mem['small_mb']:.0f} at {small['articles']}", f"{memory_ratio:.2f} x", "<= 1.10 x",
         met(memory_ratio <= 1.10)),
        (f"storage: upsert_batch into {server} (docs/s)", f"batch 100: {st[100]:.0f}; batch 1000: {st[1000]:.0f}",
         f"batch 1: {st[1]:.0f}", f"{storage_ratio:.1f} x", ">= 10 x", met(storage_ratio >= 10)),
        (f"query --section X --limit 20 at {q['documents']} documents",
         f"{q['find_ms']:.1f} ms (query); {q['command_s']:.2f} s (whole command)", "", "", "", ""),
    ]  # fmt: skip
    lines = [
        "# Benchmarks",
        "",
        f"Written by `python3 bench/run.py` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC in {r['minutes']:.0f} minutes.",
        f"Machine: {r['machine']}.",
        "",
        f"Sites: generated from the test mirror (seed 2025): {large['articles']} articles"
        f" ({large['mean_page_bytes'] // 1000} KB a page on average) on {large['listings']} listing pages over"
        f" 8 sections, and {small['articles']} articles for the memory comparison. Their pages are heavy the way"
        " the network's are: a body of 6-20 paragraphs, inline ad-tag scripts, ad slots and a column of links to"
        " the sister sites. The long-body site has the same articles padded with article text instead"
        f" ({long['mean_page_bytes'] // 1000} KB a page, bodies of 25-55 KB): a stress case for extraction."
        " All served by Twisted's static file server on 127.0.0.1. Crawls: 16 concurrent requests, no delay,"
        " no AutoThrottle, robots.txt obeyed."
        f" Each number is the median of {r['args']['repeat']} runs (extraction: of"
        f" {r['args']['extraction_rounds']} passes over the same pages, after one untimed pass); each ratio is"
        " taken run by run against the baseline of the same repetition, and the median ratio is shown.",
        "",
        "| measurement | ours | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
        *("| " + " | ".join(row) + " |" for row in rows),
        "",
        f"Per run (pages/s): bare {per_run['bare']}; ours storage off {per_run['off']};"
        f" ours into the stand-in {per_run['store']}; long-body site: bare {per_run['long_bare']},"
        f" ours {per_run['long_off']}.",
        "",
        *(
            []
            if r["args"]["mongo_uri"]
            else [
                "On the stand-in, batching cannot reach 10 x: MONGO-STANDIN.md measured its own bulk_write of"
                " upserts keyed by `_id` at 1,415 docs/s one at a time and 6,845 in batches of 100 (4.8 x), before"
                " any index. `python3 bench/run.py --mongo-uri URI` measures storage and query on a real MongoDB.",
                "",
            ]
        ),
        "The F1 pages are the test mirror's, which the parser was developed against: an in-sample score.",
        "trafilatura's text keeps the site's navigation, copyright and GDPR notices, hence its low precision.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
