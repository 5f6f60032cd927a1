"""`make bench`: python -m tests.bench."""
