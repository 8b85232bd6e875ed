"""The baseline: a bare Scrapy spider that follows the same links as ours and parses nothing."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlsplit

import scrapy
from scrapy.http import Response

FOLLOW = re.compile(r"^/(?:reports/[^/]+|afp/[^/]+|[A-Za-z][\w-]*)\.html$")


class BareSpider(scrapy.Spider):
    name = "bare"

    def __init__(self, base_url: str, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = base_url
        self.netloc = urlsplit(base_url).netloc

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield scrapy.Request(self.base_url)

    def parse(self, response: Response) -> Iterator[scrapy.Request]:
        for href in response.css("a::attr(href)").getall():
            parts = urlsplit(response.urljoin(href))
            if parts.netloc == self.netloc and FOLLOW.match(parts.path):
                yield scrapy.Request(f"{parts.scheme}://{parts.netloc}{parts.path}")
