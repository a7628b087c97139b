"""Benchmarks of TaskDash against real processes; run with `python -m bench.run`."""
