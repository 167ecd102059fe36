#!/usr/bin/env bash
# Standard GraphQL tooling against the real server: builds `partnergraph`,
# serves it on a free port over a throwaway SQLite database, mints an admin
# token and a partner token with `partnergraph token create`, then runs
#   - the graphql-http audit suite (audit.mjs; every audit must be `ok`),
#   - graphql-js introspection with every option, as staff and as a partner
#     (introspect.mjs),
#   - Apollo Client's persisted-query link (apollo.mjs), then again on a
#     second server with --trusted-documents, its manifest registered with
#     `partnergraph documents add`,
#   - Schemathesis, a schema-driven fuzzer (requirements.txt, in a venv;
#     fuzz_hooks.py says how to generate our scalars), as staff and as a
#     partner: no generated operation may get a 5xx,
# and stops the servers. Node dependencies come from package-lock.json.
#
#   bash tools/conformance/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

cargo build --quiet --manifest-path "$root/Cargo.toml" --bin partnergraph
bin="$root/target/debug/partnergraph"

if [ ! -d "$here/node_modules" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error)
fi

work="$(mktemp -d)"
export DATABASE_URL="sqlite://$work/conformance.db?mode=rwc"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port/graphql"

"$bin" migrate
admin="$("$bin" token create --role ADMIN --email conformance@example.com)"

servers=()
stop() {
  for pid in "${servers[@]}"; do
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap stop EXIT
# serve PORT [FLAG…]: starts a server and waits until it is ready.
serve() {
  local port=$1
  shift
  "$bin" serve --listen "127.0.0.1:$port" --jobs-interval 0 "$@" >>"$work/server.log" 2>&1 &
  servers+=($!)
  for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null && return 0
    sleep 0.1
  done
  cat "$work/server.log"
  return 1
}
serve "$port"

# A partner, and a token acting for it.
partner_id="$(curl -fs "$url" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"query":"mutation { createPartner(input: {name: \"Conformance Partner\", type: RESELLER}) { partner { id } } }"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["createPartner"]["partner"]["id"])')"
partner="$("$bin" token create --role PARTNER_ADMIN --partner "$partner_id")"

cd "$here"
echo "== graphql-http audits"
PARTNERGRAPH_URL="$url" PARTNERGRAPH_TOKEN="$admin" node audit.mjs
echo "== graphql-js introspection"
PARTNERGRAPH_URL="$url" PARTNERGRAPH_TOKEN="$admin" EXPECT=staff node introspect.mjs
PARTNERGRAPH_URL="$url" PARTNERGRAPH_TOKEN="$partner" EXPECT=partner node introspect.mjs
echo "== Apollo Client persisted queries"
PARTNERGRAPH_URL="$url" PARTNERGRAPH_TOKEN="$admin" node apollo.mjs apq
node apollo.mjs manifest >"$work/manifest.json"
"$bin" documents add "$work/manifest.json" >/dev/null
trusted_port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
serve "$trusted_port" --trusted-documents
PARTNERGRAPH_URL="http://127.0.0.1:$trusted_port/graphql" PARTNERGRAPH_TOKEN="$partner" node apollo.mjs trusted

echo "== schema-driven fuzzing (Schemathesis), as staff and as a partner"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
# The mutations only a partner may call (its own dispute, its own extension
# request) answer staff with a top-level FORBIDDEN, which Schemathesis counts
# as a server error; the partner's run covers them.
partner_only=(--exclude-name Mutation.disputeAccrual --exclude-name Mutation.requestRegistrationExtension)
for who in staff partner; do
  if [ "$who" = staff ]; then token="$admin"; skip=("${partner_only[@]}"); else token="$partner"; skip=(); fi
  # Reads the schema by introspection, then sends generated operations;
  # any 5xx fails the run (pipefail).
  PYTHONPATH=. SCHEMATHESIS_HOOKS=fuzz_hooks "$work/venv/bin/schemathesis" run "$url" \
    -H "Authorization: Bearer $token" --max-examples 20 --checks not_a_server_error \
    --generation-deterministic --no-color "${skip[@]}" 2>&1 | tail -n 12
done
