"""Benchmarks against the sandbox (``python -m bench.<name>``)."""
