"""The exception tree. Messages say what failed; they never carry an API key or a raw upstream body.

    TokendashError
    ├── ConfigError          bad settings or config file
    ├── StoreError           the database could not be opened, migrated or written
    ├── InvalidParams        a request parameter is wrong (names the field)
    ├── Unauthorized         missing or wrong bearer token
    ├── Unavailable          the sidecar or a dependency is not there
    └── NotFound             unknown method or object

``SourceError`` (a source failed as a whole) lives in ``tokendash.sources.base`` next to the contract.
"""

from __future__ import annotations


class TokendashError(Exception):
    """Base of all tokendash errors."""


class ConfigError(TokendashError):
    pass


class StoreError(TokendashError):
    pass


class InvalidParams(TokendashError):
    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class Unauthorized(TokendashError):
    pass


class Unavailable(TokendashError):
    pass


class NotFound(TokendashError):
    pass
