"""The provider tables on PostgreSQL (team mode): the same poll, upserts and figures as on SQLite, and
two hosts polling the same organisation do not double its bill."""

from __future__ import annotations

import pytest

from tests.providers.conftest import NOW, World
from tokendash import providers


@pytest.mark.postgres
def test_billing_on_postgres_and_two_hosts_polling_one_org(world: World, pg_database: str) -> None:
    a = world.app(database_url=pg_database, host_id="host-a")
    b = world.app(database_url=pg_database, host_id="host-b")
    assert all(r.ok for r in providers.poll(a, now_ms=NOW))
    assert all(r.ok for r in providers.poll(b, now_ms=NOW + 60_000))
    rec = {p["providerId"]: p["periods"] for p in providers.reconcile(a, NOW + 60_000)["providers"]}
    assert rec["openai"]["month"]["billedUsd"] == pytest.approx(26.25)
    assert rec["anthropic"]["last7Days"]["billedUsd"] == pytest.approx(13.9992384)
    assert rec["openrouter"]["today"]["billedUsd"] == pytest.approx(1.5)
    st = {p["providerId"]: p for p in providers.provider_statuses(b, NOW + 60_000)}
    assert st["deepseek"]["currentUsage"]["balanceUsd"] == pytest.approx(20.9)
    a.store.engine.dispose()
    b.store.engine.dispose()
