"""Benchmarks for issue #7: cold start, warm latency and bundle size (`python -m bench`).

Kept out of the test run (pytest collects only `tests/`). Nothing here is imported by the app.
"""
