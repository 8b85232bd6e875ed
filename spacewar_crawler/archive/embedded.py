"""The embedded MongoDB stand-in: nx-27017 (MongoDB wire protocol on SQLite) as a child process.

Used only when MONGO_URI is unset and nothing answers on the default port, so that the
README's commands work on a fresh machine. Production means a real MongoDB (see README).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

logger = logging.getLogger(__name__)


class EmbeddedMongoError(RuntimeError):
    """The stand-in could not be started."""


def port_answers(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def _executable() -> str:
    beside_python = Path(sys.executable).with_name("nx-27017")
    found = str(beside_python) if beside_python.exists() else shutil.which("nx-27017")
    if not found:
        raise EmbeddedMongoError(
            "nx-27017 is not installed: run `python3 -m pip install -r requirements.txt`, "
            "or set MONGO_URI to a MongoDB server"
        )
    return found


class EmbeddedMongo:
    """Starts nx-27017 on a loopback port with its data under `data_dir`, and stops it."""

    def __init__(self, data_dir: Path, port: int) -> None:
        self.data_dir = data_dir
        self.port = port
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted: int | None = None

    @classmethod
    def left_running(cls, data_dir: Path, port: int) -> EmbeddedMongo | None:
        """The stand-in an earlier run started on this data directory and never stopped (it was killed), if it is
        still running: adopted, so that this run stops it."""
        try:
            pid = int((data_dir / "nx-27017.pid").read_text().strip())
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (OSError, ValueError):
            return None
        if not any(b"nx-27017" in part for part in command) or str(data_dir / "db").encode() not in command:
            return None
        orphan = cls(data_dir, port)
        orphan._adopted = pid
        return orphan

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def start(self, timeout: float = 20.0) -> str:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        command = [
            _executable(),
            "--data-dir",
            str(self.data_dir / "db"),
            "-p",
            str(self.port),
            "--log-file",
            str(self.data_dir / "nx-27017.log"),
            "--pid-file",
            str(self.data_dir / "nx-27017.pid"),
        ]
        self._process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if port_answers(self.port):
                return self.uri
            if self._process.poll() is not None:
                raise EmbeddedMongoError(
                    f"nx-27017 exited with status {self._process.returncode}; see {self.data_dir / 'nx-27017.log'}"
                )
            time.sleep(0.1)
        self.stop()
        raise EmbeddedMongoError(f"nx-27017 did not listen on port {self.port} within {timeout:.0f} s")

    def stop(self, timeout: float = 10.0, patience: float = 2.0) -> None:
        """Asks the server to exit (SIGTERM), again every `patience` s, and kills it after `timeout` s.

        nx-27017 has been seen to sleep on in its event loop after a SIGTERM (12 of 116 stops one
        afternoon, each ended by the kill): another signal, and a connection that wakes the loop, end it.
        """
        if self._adopted is not None:
            self._stop_adopted(timeout)
            return
        if self._process is None or self._process.poll() is not None:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._process.terminate()
            try:
                self._process.wait(min(patience, max(deadline - time.monotonic(), 0.0)))
                return
            except subprocess.TimeoutExpired:
                port_answers(self.port, timeout=0.2)
        self._process.kill()
        self._process.wait(5)

    def _stop_adopted(self, timeout: float) -> None:
        assert self._adopted is not None
        deadline = time.monotonic() + timeout
        with contextlib.suppress(ProcessLookupError):
            os.kill(self._adopted, signal.SIGTERM)
            while time.monotonic() < deadline and _running(self._adopted):
                time.sleep(0.1)
            if _running(self._adopted):
                os.kill(self._adopted, signal.SIGKILL)


def _running(pid: int) -> bool:
    """The process exists and has not exited (an exited one waits as a zombie until its parent reaps it)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"
