"""Alembic migrations of the jiuzhu schema (docs/migrations.md); run them with `jiuzhu db upgrade`."""
