"""The command line over the archive: `spacewar COMMAND` (or `python -m spacewar_crawler COMMAND`)."""
