"""Test fixtures shared by the tests, the benchmarks and the load test: real talking-head videos with known truth,
the hostile upload corpus, and the real servers they start (the Serve application, PostgreSQL, Redis, a Ray
cluster). Not part of the installed service."""
