"""Benchmarks: fixed workloads, each measuring its own reference in the same run and printing the
ratio. They are never run as tests."""
