#!/usr/bin/env bash
# Runs both examples against the real server: builds and serves
# `partnergraph` on a free port over a throwaway SQLite database, creates a
# partner, a partner token (`partnergraph token create`) and an OAuth2
# client (`partnergraph client create`), then
#   - portal-ts: graphql-codegen generates the operations' types from the
#     live endpoint with the partner token and from schema.partner.graphql
#     (they must agree), tsc compiles, and the portal client runs;
#   - partner-system-py: signs in with client credentials and polls the
#     `events` feed until the portal's registration shows up.
#
#   bash examples/run.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"
cargo build --quiet --manifest-path "$root/Cargo.toml" --bin partnergraph
bin="$root/target/debug/partnergraph"

work="$(mktemp -d)"
export DATABASE_URL="sqlite://$work/examples.db?mode=rwc"
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
"$bin" migrate
admin="$("$bin" token create --role ADMIN --email examples@example.com)"
"$bin" serve --listen "127.0.0.1:$port" --jobs-interval 0 >"$work/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true; wait $server 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null && break
  sleep 0.1
done

partner_id="$(curl -fs "$base/graphql" -H "authorization: Bearer $admin" -H 'content-type: application/json' \
  -d '{"query":"mutation { createPartner(input: {name: \"Example Partner\", type: REFERRAL}) { partner { id } } }"}' |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["data"]["createPartner"]["partner"]["id"])')"
partner_token="$("$bin" token create --role PARTNER_ADMIN --partner "$partner_id")"
client="$("$bin" client create --name "Example CRM" --partner "$partner_id" --scopes partners:read,registrations:read)"

echo "== portal-ts (graphql-codegen, TypeScript, graphql-ws)"
cd "$here/portal-ts"
[ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error
PARTNERGRAPH_URL="$base/graphql" PARTNERGRAPH_TOKEN="$partner_token" npx graphql-codegen --silent --config codegen.live.yml
npx graphql-codegen --silent --config codegen.file.yml
# The live partner schema and the checked-in partner SDL give the same types
# (codegen's introspection leaves out scalars' descriptions: comments aside).
code_only() { grep -vE '^\s*(/\*\*|\*)' "$1"; }
diff -u <(code_only src/generated/from-file.ts) <(code_only src/generated/graphql.ts)
npx tsc -p .
PARTNERGRAPH_URL="$base/graphql" PARTNERGRAPH_TOKEN="$partner_token" node dist/portal.js

echo "== partner-system-py (OAuth2 client credentials, polling events)"
cd "$here/partner-system-py"
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install --quiet --disable-pip-version-check -r requirements.txt
CLIENT_ID="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["client_id"])' "$client")" \
CLIENT_SECRET="$(python3 -c 'import json, sys; print(json.loads(sys.argv[1])["client_secret"])' "$client")" \
PARTNERGRAPH_URL="$base" OAUTHLIB_INSECURE_TRANSPORT=1 \
  "$work/venv/bin/python" partner_system.py --until-type deal_registration.submitted
