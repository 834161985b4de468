"""The provider sources, in display order. An outside provider would register the same way: one
``ProviderDef`` under its id."""

from __future__ import annotations

from tokendash.providers import anthropic, deepseek, moonshot, openai, openrouter
from tokendash.providers.base import ProviderDef

PROVIDERS: dict[str, ProviderDef] = {
    p.id: p for p in (openai.PROVIDER, anthropic.PROVIDER, openrouter.PROVIDER, moonshot.PROVIDER, deepseek.PROVIDER)
}
