"""What the archive raises: the server cannot be reached, or a write failed."""


class ArchiveUnavailable(RuntimeError):
    """The MongoDB server cannot be reached; the message names the (masked) URI and a fix."""


class ArchiveWriteError(RuntimeError):
    """A write failed (server gone, disk full, ...); the batch may be retried as a whole."""
