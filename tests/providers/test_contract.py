"""Every result is valid proto JSON for the schema the sidecar serves (``protos/tokendash/v1``): the
gRPC transport parses it field by field and rejects an unknown one."""

from __future__ import annotations

import json

from tests.providers.conftest import NOW, World
from tokendash import providers
from tokendash.api._pb import usage_pb2
from tokendash.api.codec import response_class, to_proto


def test_results_parse_as_the_proto_messages(world: World) -> None:
    app = world.app(enabled_providers=None)
    from tokendash.pricing.prices import Priced
    from tokendash.sources.base import UsageEvent

    # One provider seen only in local logs, so the local kind of entry is covered too.
    app.store.write_batch("openclaw", [(UsageEvent("openclaw", "g1", NOW - 3_600_000, "google", "gemini-2.5-pro", input=100),
                                        Priced(250_000_000, "estimated"))])
    world.servers["moonshot"].faults = [world_fault()]
    providers.poll(app, now_ms=NOW)
    infos = providers.provider_infos(app, NOW)
    burn = providers.burn(app, NOW)
    statuses = providers.provider_statuses(app, NOW)
    msg = to_proto({"providers": infos}, response_class("Providers"))
    assert [p.id for p in msg.providers] == ["openai", "anthropic", "openrouter", "moonshot", "deepseek"]
    assert msg.providers[3].error.startswith("moonshot /users/me/balance: HTTP 500")
    b = to_proto(burn, response_class("Burn"))
    assert b.total.runway_days == burn["total"]["runwayDays"]
    for s in statuses:
        m = to_proto(s, usage_pb2.ProviderStatus)
        assert m.provider_id == s["providerId"]
    google = next(s for s in statuses if s["providerId"] == "google")
    assert google["kind"] == "local" and google["currentUsage"]["costUsd"] == 0.25
    assert google["isReachable"] and google["burnRate"]["basis"] == "estimated"
    json.dumps([infos, burn, statuses], allow_nan=False)


def world_fault():  # noqa: ANN201
    from tests.providers.fakes import Fault

    return Fault("status", 500, {"error": {"message": "boom"}})
