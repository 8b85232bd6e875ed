"""`python -m spacewar_crawler COMMAND`: work with the archive (see `--help`)."""

from spacewar_crawler.cli.main import main

raise SystemExit(main())
