"""The items the spider yields: clean articles, and pages that could not become one.

Defined with the page reading that makes them (`reading/article.py`), so that the page
objects, which import nothing from the crawler, return finished items.
"""

from spacewar_crawler.reading.article import ArticleItem, RejectedPage

__all__ = ["ArticleItem", "RejectedPage"]
