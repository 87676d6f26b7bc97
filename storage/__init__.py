"""nckh storage: SQLAlchemy models, the database connection and its migrations.

Storage persists what the engine decided; it never decides. Every table lives on one `Base`
metadata so Alembic sees it, but each component keeps its tables in its own module.
"""
