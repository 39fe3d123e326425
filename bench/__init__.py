"""Quince benchmarks: `make bench` prints a table of timings."""
