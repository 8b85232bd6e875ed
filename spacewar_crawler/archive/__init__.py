"""The archive: MongoDB (articles with revisions, runs, rejects, listing validators) and the raw WARC files.

The only package that imports pymongo; nothing outside it writes MongoDB syntax.
"""
