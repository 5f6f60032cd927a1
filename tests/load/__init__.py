"""Load and fault tests (`make load`, `make fault`): scripts, not part of the pytest run.

``python -m tests.load load`` drives 50 simulated respondents against gunicorn on
SQLite, on PostgreSQL, and on a two-node cluster with background workers;
``python -m tests.load fault`` stops PostgreSQL in the middle of the load. Each run
checks that every answer the server acknowledged is in the database. See
docs/performance.md for the figures and how to read them.
"""
