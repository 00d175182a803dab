"""Benchmarks: run on demand (`make bench`), print figures; never collected as tests."""
