"""The site's URL rules: which URLs are on-site, articles or listings, and their canonical form."""

from __future__ import annotations

import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit, urlunsplit

from w3lib.url import canonicalize_url, url_query_cleaner

DEFAULT_BASE_URL = "https://www.spacewar.com/"

# The Space Media Network's own list of its 24 sites (its advertising page, 2017; all .com), with the hosts seen
# beside them: energy-daily.com (article URLs), spxdaily.com (the network's images). Their articles appear in
# RELATED CONTENT and are kept in `related`; only the crawled site is ever fetched.
NETWORK_SITES = (
    "biofueldaily.com", "energydaily.com", "gpsdaily.com", "indodaily.com", "interndaily.com", "marsdaily.com",
    "moondaily.com", "nanodaily.com", "nuclearpowerdaily.com", "oilgasdaily.com", "radardaily.com",
    "robodaily.com", "russodaily.com", "saturndaily.com", "seeddaily.com", "sinodaily.com", "skynightly.com",
    "solardaily.com", "space-travel.com", "spacedaily.com", "spacemart.com", "spacewar.com", "terradaily.com",
    "winddaily.com",
)  # fmt: skip
SMN_DOMAINS = (*NETWORK_SITES, "energy-daily.com", "spxdaily.com")

TRACKING_PARAMS = (
    "ref",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_term",
    "utm_content",
    "fbclid",
    "gclid",
)

# The two generations of the network's sites: the classic template (/reports/..._999.html) and, from 2026,
# WordPress (/century-old-solar-records-refine-future-cycle-forecasts-999/).
CLASSIC = "classic"
WORDPRESS = "wordpress"
GENERATIONS = (CLASSIC, WORDPRESS)

_ARTICLE_PATH = re.compile(r"^/(?:reports/[^/]+|afp/[\w.-]+)\.html?$", re.IGNORECASE)
# A WordPress post's permalink: /slug/, /2026/02/03/slug/ or /2026/02/slug/, the slug made of words joined by
# hyphens (a page's is most often one word: /about/, /contact/); never one of WordPress's own routes.
_WP_POST_PATH = re.compile(
    r"^/(?:\d{4}/\d{2}/(?:\d{2}/)?)?(?!(?:category|tag|author|page|feed|comments|search|wp-[\w-]*)(?:/|$))"
    r"[\w%]+(?:-[\w%]*)+/?$",
    re.IGNORECASE,
)
# A WordPress category listing and its older pages: /category/news/, /category/news/page/2/.
_WP_CATEGORY_PATH = re.compile(r"^/category/[\w%-]+(?:/[\w%-]+)*?/(?:page/\d+/?)?$", re.IGNORECASE)
# A link without one of these (an article directory, percent-escapes that canonical forms may unquote, a
# hyphenated last path segment) is no article.
_ARTICLE_DIRECTORY = re.compile(r"/(?:reports|afp)/|%|/[\w]+(?:-[\w]*)+/?(?:[?#]|$)", re.IGNORECASE)
# Paths that are no article page: files, feeds, WordPress's own routes.
_NOT_A_PAGE = re.compile(
    r"\.(?:jpe?g|png|gif|webp|svg|pdf|xml|rss|json|js|css|zip|mp[34])$|^/(?:wp-|feed/|tag/|author/|category/|index\.html?$)",
    re.IGNORECASE,
)
_ROOT_PAGE_PATH = re.compile(r"^/[A-Za-z][\w-]*\.html?$")
_NON_LISTING_STEMS = frozenset(
    {
        "index",
        "about",
        "about-us",
        "aboutus",
        "advertise",
        "advertising",
        "contact",
        "privacy",
        "newsletters",
        "newsletter",
        "subscribe",
        "email",
        "search",
    }
)


@lru_cache(maxsize=1024)
def slugify(name: str) -> str:
    """Section slug: lower-cased, runs of non-alphanumerics become one '-'."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


@lru_cache(maxsize=4096)
def _cleaned(url: str) -> str:
    """w3lib's canonical form without tracking parameters; cached, as every page repeats its navigation links."""
    return canonicalize_url(url_query_cleaner(url, TRACKING_PARAMS, remove=True))


@lru_cache(maxsize=8192)
def _joined(base: str, href: str) -> str | None:
    try:
        url = urljoin(base, href) if base else href
        scheme = urlsplit(url).scheme
    except ValueError:
        return None
    return url if scheme in ("http", "https") else None


@lru_cache(maxsize=8192)
def _parts(url: str) -> tuple[str, str, int | None, str]:
    """(scheme, lower-case host, port, path) of a URL; cached, as a page tests its links several times."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:  # a port out of range or not a number: no site of ours
        port = -1
    return parts.scheme, (parts.hostname or "").lower(), port, parts.path


@lru_cache(maxsize=1024)
def _origin(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/", "", ""))


@lru_cache(maxsize=8192)
def _canonical(scheme: str, netloc: str, url: str) -> str:
    """`SiteUrls.canonical` for the site served at scheme://netloc; cached, as every page repeats its links."""
    url = _cleaned(url)
    if SiteUrls(f"{scheme}://{netloc}/").is_on_site(url):
        parts = urlsplit(url)
        url = urlunsplit((scheme, netloc, parts.path, parts.query, ""))
    return url


def _bare(host: str) -> str:
    return host[4:] if host.startswith("www.") else host


_SMN_DOMAIN_SET = frozenset(SMN_DOMAINS)
# Hosts that count as the network's besides SMN_DOMAINS (SPACEWAR_EXTRA_NETWORK_HOSTS: a site that joined, a mirror).
_EXTRA_HOSTS: set[str] = set()


def register_network_hosts(hosts: list[str]) -> None:
    """Count `hosts` (exact host names) as network sites too, for this process: their article links are kept in
    `related`, and never fetched unless one is the crawled site."""
    _EXTRA_HOSTS.update(host.strip().lower() for host in hosts if host.strip())


def is_smn_host(host: str) -> bool:
    """A Space Media Network host: one of SMN_DOMAINS (all registered names) or a subdomain of one, or a host
    registered with `register_network_hosts`."""
    host = host.lower()
    return ".".join(host.rsplit(".", 2)[-2:]) in _SMN_DOMAIN_SET or host in _EXTRA_HOSTS


def may_be_article(href: str) -> bool:
    """A cheap first test of a link (nothing resolved or parsed): False if it cannot lead to an article.

    Only absolute and root-relative links are ruled out; one relative to its page is decided
    once resolved.
    """
    href = href.strip()
    if not href.startswith("/") and ":" not in href.split("/", 1)[0]:
        return True
    return bool(_ARTICLE_DIRECTORY.search(href))


def is_classic_article(url: str) -> bool:
    """A URL with the classic template's article path (/reports/..., /afp/...), on whatever host."""
    return bool(_ARTICLE_PATH.match(_parts(url)[3]))


def is_classic_listing(url: str) -> bool:
    """A URL with the classic template's section page path (/Superpowers.html), on whatever host."""
    path = _parts(url)[3]
    return bool(_ROOT_PAGE_PATH.match(path)) and slugify(path[1:].rsplit(".", 1)[0]) not in _NON_LISTING_STEMS


class SiteUrls:
    """URL rules of one site, all derived from its root URL (`base_url`)."""

    def __init__(self, base_url: str = DEFAULT_BASE_URL, generation: str = CLASSIC) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url must be an http(s) URL with a host, got {base_url!r}")
        self.scheme = parts.scheme
        self.netloc = parts.netloc.lower()
        self.host = parts.hostname.lower()
        self.port = parts.port
        self.root = urlunsplit((self.scheme, self.netloc, "/", "", ""))
        self.generation = generation

    @property
    def allowed_domain(self) -> str:
        return _bare(self.host)

    def is_on_site(self, url: str) -> bool:
        scheme, host, port, _ = _parts(url)
        if scheme not in ("http", "https") or _bare(host) != _bare(self.host):
            return False
        # A port only matters when the site itself is served on one (tests, mirrors).
        if self.port is None:
            return port in (None, 80, 443)
        return port == self.port

    def absolute(self, href: str, page_url: str) -> str | None:
        """`href` resolved against `page_url`; None for anything but http(s)."""
        href = href.strip()
        # Absolute and root-relative links do not depend on the page: one cache entry serves every page.
        if href.startswith(("http://", "https://")):
            return _joined("", href)
        if href.startswith("/") and not href.startswith("//"):
            return _joined(_origin(page_url), href)
        return _joined(page_url, href)

    def canonical(self, url: str) -> str:
        """One spelling per page: no fragment or tracking query, sorted query, site's own host."""
        return _canonical(self.scheme, self.netloc, url)

    def is_article(self, url: str) -> bool:
        """An article of this site in its generation (classic URLs stay articles after a move: they redirect)."""
        if not self.is_on_site(url):
            return False
        path = _parts(url)[3]
        return bool(_ARTICLE_PATH.match(path) or (self.generation == WORDPRESS and _WP_POST_PATH.match(path)))

    def is_network_article(self, url: str) -> bool:
        """An article of this site or of a Space Media Network sister site, in either generation's URLs."""
        _, host, _, path = _parts(url)
        shaped = _ARTICLE_PATH.match(path) or _WP_POST_PATH.match(path)
        return bool(shaped) and (is_smn_host(host) or self.is_on_site(url))

    def may_be_unknown_article(self, url: str) -> bool:
        """An on-site page of no known kind (no article URL, no listing, no file, feed or WordPress route, not the
        home page): an article only if it reads as one."""
        if not self.is_on_site(url) or self.is_article(url) or self.is_listing_candidate(url):
            return False
        path = _parts(url)[3]
        return path not in ("", "/") and not _NOT_A_PAGE.search(path) and not self.is_network_article(url)

    def is_listing_candidate(self, url: str) -> bool:
        """A root-level page of this site that may be a section listing."""
        if not self.is_on_site(url):
            return False
        path = _parts(url)[3]
        if _WP_CATEGORY_PATH.match(path):
            return True
        if not _ROOT_PAGE_PATH.match(path):
            return False
        stem = path[1:].rsplit(".", 1)[0]
        return slugify(stem) not in _NON_LISTING_STEMS
