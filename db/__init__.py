"""The database layer: one engine per process on the key store's database (SQLite by default, PostgreSQL via
`DATABASE_URL`), the declarative base and column types every table uses, cross-replica locks, and the Alembic
migrations of every table (db/migrations). auth/, jobs/, storage/ and the dashboard keep their tables here."""
