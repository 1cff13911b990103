"""Benchmarks that print figures (they are not tests); each runs as a module from the
repository's root, e.g. ``.venv/bin/python -m bench.page``. See bench/README.md."""
