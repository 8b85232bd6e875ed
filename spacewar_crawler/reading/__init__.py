"""Page reading, plain code (no Scrapy): a page as a reader sees it, its header, layouts, boilerplate, quality."""
