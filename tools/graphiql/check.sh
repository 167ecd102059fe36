#!/usr/bin/env bash
# GraphiQL in headless Chromium against the real server (browser.mjs):
# builds and serves `partnergraph` on a free port over a throwaway SQLite
# database, mints an admin token, and drives the page with every other host
# unreachable. Needs Chromium (`apt-get install chromium`; CHROMIUM=path to
# use another) and node 18+.
#
#   bash tools/graphiql/check.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cargo build --quiet --manifest-path "$root/Cargo.toml" --bin partnergraph
bin="$root/target/debug/partnergraph"
if [ ! -d "$here/node_modules" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi
work="$(mktemp -d)"
export DATABASE_URL="sqlite://$work/graphiql.db?mode=rwc"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
"$bin" migrate
admin="$("$bin" token create --role ADMIN --email graphiql@example.com)"
"$bin" serve --listen "127.0.0.1:$port" --jobs-interval 0 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && break
  sleep 0.1
done
cd "$here"
PARTNERGRAPH_URL="http://127.0.0.1:$port" PARTNERGRAPH_TOKEN="$admin" CHROMIUM="${CHROMIUM:-$(command -v chromium || command -v chromium-browser)}" node browser.mjs
