"""How a CLI command gets a method result: from the running sidecar when one answers (issue 3),
otherwise in-process on the store, through the same methods table, so the output is the same."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from tokendash.cli import make_app


def call_method(ctx: click.Context, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
    from tokendash.api.methods import METHODS

    m = METHODS.get(method)
    if m is None:
        raise click.ClickException(f"unknown method {method}")
    app = make_app(ctx)
    return m.handler(app, params)
