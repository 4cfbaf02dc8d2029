"""Alembic migrations for central's database; run them with `python -m central migrate`."""
