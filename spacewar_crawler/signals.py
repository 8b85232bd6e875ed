"""The project's own signals, so that components share state without knowing each other.

archive_opened(archived_urls: frozenset[str], listing_validators: dict[str, dict[str, str]], retry_urls: list[str])
    sent by the storage pipeline once the archive is open, before any request is made;
    retry_urls are articles that earlier runs failed to fetch and that are worth another try.
listing_fetched(url: str, etag: str | None, last_modified: str | None)
    sent by the spider for every listing page fetched in full.
"""

archive_opened = object()
listing_fetched = object()
