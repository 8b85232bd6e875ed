"""A MongoDB for the tests: MONGO_TEST_URI when set (a real MongoDB), else nx-27017 on loopback."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from threading import Thread

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import PyMongoError

ON_STAND_IN = not os.environ.get("MONGO_TEST_URI")


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as s:
        return s.getsockname()[1]


class StandInServer:
    """nx-27017 on a free loopback port with its data in `directory`; can be killed and restarted."""

    def __init__(self, directory: Path, port: int | None = None, data_dir: Path | None = None) -> None:
        self.directory = directory
        self.data_dir = data_dir or directory / "data"
        self.port = port or free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?serverSelectionTimeoutMS=5000"

    def start(self) -> StandInServer:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            ["nx-27017", "--data-dir", str(self.data_dir), "-p", str(self.port),
             "--log-file", str(self.directory / "log"), "--pid-file", str(self.directory / "pid")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 20
        while True:
            try:
                MongoClient(self.uri, serverSelectionTimeoutMS=500).admin.command("ping")
                return self
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def after_documents(collection: Collection, count: int, action: Callable[[], None], timeout: float = 60) -> Thread:
    """Starts a thread that runs `action` once `collection` holds `count` documents (or after `timeout`)."""

    def wait_then_act() -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if collection.estimated_document_count() >= count:
                    break
            except PyMongoError:
                pass  # the server may be restarting
            time.sleep(0.05)
        action()

    thread = Thread(target=wait_then_act)
    thread.start()
    return thread
