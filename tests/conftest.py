from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from pymongo import MongoClient

from spacewar_crawler.archive.mongo import MongoArchive
from tests.mirror_site import SITE, MirrorServer
from tests.mongo_server import ON_STAND_IN, StandInServer
from tests.reliability_report import write_reliability_report

TESTS = Path(__file__).resolve().parent


@pytest.fixture(scope="session")
def mirror():
    """The original mirror, served for the whole session (read-only)."""
    server = MirrorServer().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mongo_uri(tmp_path_factory):
    """A MongoDB-compatible server over a real socket (see tests/mongo_server.py)."""
    if not ON_STAND_IN:
        yield os.environ["MONGO_TEST_URI"]
        return
    server = StandInServer(tmp_path_factory.mktemp("nx")).start()
    yield server.uri
    server.stop()


@pytest.fixture
def db_name(mongo_uri, request):
    """A fresh database per test, dropped afterwards."""
    name = "t_" + hashlib.sha1(request.node.nodeid.encode()).hexdigest()[:16]
    client = MongoClient(mongo_uri)
    client.drop_database(name)
    yield name
    client.drop_database(name)
    client.close()


@pytest.fixture
def archive(mongo_uri, db_name):
    store = MongoArchive(mongo_uri, db_name, "articles", connect_timeout=5.0)
    store.ensure_indexes()
    yield store
    store.close()


@pytest.fixture
def mirror_copy(tmp_path):
    """A private, editable copy of the mirror, served on its own port."""
    root = tmp_path / "site"
    shutil.copytree(SITE, root)
    server = MirrorServer(root).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def reliability(request):
    """Rows of docs/reliability.md: each fault test adds what it measured.

    The report is rewritten only after a whole, green run of the suite, so that running a
    few tests never leaves a partial table behind.
    """
    rows: list[dict] = []
    yield rows
    narrowing = ("keyword", "markexpr", "deselect", "lf", "maxfail")
    selected_all = not any(getattr(request.config.option, name, None) for name in narrowing)
    whole_suite = [Path(arg).resolve() for arg in request.config.args] in ([TESTS], [TESTS.parent])
    if rows and selected_all and whole_suite and request.session.testsfailed == 0:
        write_reliability_report(rows)


@pytest.fixture
def own_stand_in(tmp_path):
    """Starts private nx-27017 servers (for tests that stop, kill or starve them); all stopped at teardown."""
    servers: list[StandInServer] = []

    def start(name: str = "nx", **options) -> StandInServer:
        server = StandInServer(tmp_path / name, **options).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def tiny_disk(tmp_path):
    """Mounts a tmpfs of a given size under tmp_path (root only: skips elsewhere); all unmounted at teardown."""
    mounted: list[Path] = []

    def mount(name: str, size: str) -> Path:
        disk = tmp_path / name
        disk.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(disk)], capture_output=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
        mounted.append(disk)
        return disk

    yield mount
    for disk in mounted:
        subprocess.run(["umount", "-l", str(disk)], capture_output=True)
