"""Benchmark cases: every module here registers its cases with :func:`bench.runner.case`."""
