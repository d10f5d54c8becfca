"""Performance benchmarks (issue 9): `make bench` (full, writes docs/performance.md) or `make bench-quick`.

Everything runs on this machine against real PostgreSQL (database `lms_bench`), real Redis (db 9), real
gunicorn and real Celery worker processes that the bench starts and stops itself. Every figure is a ratio
of two things measured in the same run; see docs/performance.md.
"""
