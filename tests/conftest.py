from tests.support import pg_database  # noqa: F401  (fixture)
