"""LRS storage: the table definitions (`tables`), the store contract (`base`) and its one
SQLAlchemy implementation serving SQLite and PostgreSQL (`sqlalchemy`)."""
