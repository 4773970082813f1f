"""Benchmarks. ``python -m bench`` (``make bench``) runs them all and prints their figures.

Each benchmark is a module here with ``main(argv: list[str]) -> dict`` that prints a
human table and returns its figures. Every benchmark measures a baseline in the same
run, because the machines are shared and noisy: figures are only comparable within
one run.
"""
