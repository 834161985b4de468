#!/usr/bin/env bash
# Install tokendash as an OpenClaw plugin from this checkout, in one command:
#
#   bash scripts/install-plugin.sh            # then restart the gateway (or it hot-applies if running)
#
# 1. the Python side: .venv in this checkout with tokendash (the plugin starts .venv/bin/python -m tokendash
#    serve; PYTHON=python3.12 picks another interpreter to build it);
# 2. the plugin: `openclaw plugins install --link <this checkout>` (local source: --accept-capabilities);
# 3. the llm_output hook (live per-run records) needs conversation access for a non-bundled plugin:
#    plugins.entries.token-dashboard.hooks.allowConversationAccess = true.
# OPENCLAW=/path/to/openclaw picks the openclaw binary (default: the one on PATH; it needs Node 24).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
root=$PWD
py=${PYTHON:-python3}
oc=${OPENCLAW:-openclaw}
command -v "$oc" >/dev/null || { echo "openclaw not found (set OPENCLAW=/path/to/openclaw)" >&2; exit 1; }
[ -x .venv/bin/python ] || "$py" -m venv .venv
# (Re)install unless .venv already runs tokendash from this checkout.
where=$(.venv/bin/python -c 'import os, tokendash; print(os.path.dirname(tokendash.__file__))' 2>/dev/null || true)
[ "$where" = "$root/service/tokendash" ] || .venv/bin/python -m pip install -q -e .
echo "tokendash: $(.venv/bin/tokendash --version)"
"$oc" plugins install --link "$root" --force --accept-capabilities
"$oc" config set plugins.entries.token-dashboard.hooks.allowConversationAccess true
echo "Installed. Try: openclaw tokens status   (or /tokens in chat)"
