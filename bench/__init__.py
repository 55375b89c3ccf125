"""Benchmarks of the guide: ``make bench`` runs them side by side and writes the results file.

Run everything with ``make bench`` (it installs the ``bench`` extra: CPU torch and
threadpoolctl), or ``python -m bench CASE ...`` for some cases; ``python -m bench --list``
names them. Each case is a function in a module under ``bench/cases/``, registered with
:func:`bench.runner.case`; to add one, add a module there (see ``bench/cases/attention.py``).
"""
