import os

from tests.support import ISOLATED_VARS, backend_url, pg_database  # noqa: F401  (fixtures)


def pytest_configure(config) -> None:  # type: ignore[no-untyped-def]
    # No test may poll a real provider with a key from the developer's shell, nor read their agents'
    # logs: every process the suite starts inherits this environment.
    for name in ISOLATED_VARS:
        os.environ.pop(name, None)
