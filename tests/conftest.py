from __future__ import annotations

import pytest

from tests.mirror_site import MirrorServer


@pytest.fixture(scope="session")
def mirror():
    """The original mirror, served for the whole session (read-only)."""
    server = MirrorServer().start()
    yield server
    server.stop()
