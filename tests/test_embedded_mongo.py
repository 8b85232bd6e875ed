"""The embedded stand-in's process: started on a loopback port, and stopped even when it is slow to hear."""

from __future__ import annotations

import sys

import pytest

from spacewar_crawler.archive import embedded as embedded_mongo
from spacewar_crawler.archive.embedded import EmbeddedMongo, port_answers
from tests.mongo_server import free_port

# A stand-in for nx-27017 that takes its arguments, listens, and sleeps through its first SIGTERM.
DEAF_SERVER = """\
import signal, socket, sys
args = sys.argv[1:]
log = args[args.index("--log-file") + 1]
heard = []

def on_term(signum, frame):
    heard.append(signum)
    if len(heard) == 2:
        with open(log, "w") as f:
            f.write("exited after 2 SIGTERM")
        sys.exit(0)

signal.signal(signal.SIGTERM, on_term)
server = socket.create_server(("127.0.0.1", int(args[args.index("-p") + 1])))
while True:
    server.accept()[0].close()
"""


@pytest.fixture
def deaf_server(tmp_path, monkeypatch):
    script = tmp_path / "nx-27017"
    script.write_text(f"#!{sys.executable}\n{DEAF_SERVER}")
    script.chmod(0o755)
    monkeypatch.setattr(embedded_mongo, "_executable", lambda: str(script))
    return EmbeddedMongo(tmp_path / "data", free_port())


def test_stop_asks_again_when_the_first_sigterm_goes_unheard(deaf_server):
    deaf_server.start()
    deaf_server.stop(timeout=10, patience=0.5)
    assert (deaf_server.data_dir / "nx-27017.log").read_text() == "exited after 2 SIGTERM"
    assert not port_answers(deaf_server.port)


def test_stop_kills_a_server_that_never_exits(deaf_server):
    deaf_server.start()
    # The second SIGTERM is never sent within a 0.4 s limit: the kill ends it, and nothing is left listening.
    deaf_server.stop(timeout=0.4, patience=1.0)
    assert not (deaf_server.data_dir / "nx-27017.log").exists()
    assert not port_answers(deaf_server.port)
