#!/usr/bin/env bash
# Copies the production builds of GraphiQL and React, pinned by
# package-lock.json, with their licences, into assets/graphiql/, which
# src/http/graphiql.rs embeds in the binary (so the page needs no other
# host). Run after changing a version here, and commit assets/graphiql/.
#
#   bash tools/graphiql/update.sh
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="$here/../../assets/graphiql"
cd "$here"
npm ci --no-audit --no-fund --loglevel=error
mkdir -p "$out"
cp node_modules/react/umd/react.production.min.js "$out/"
cp node_modules/react-dom/umd/react-dom.production.min.js "$out/"
cp node_modules/graphiql/graphiql.min.js node_modules/graphiql/graphiql.min.css "$out/"
{
  echo "Third-party software served with PartnerGraph's GraphiQL page:"
  echo "react, react-dom, graphiql, and every package graphiql.min.js bundles"
  echo "(all of them installed here by npm from package-lock.json)."
  for dir in $(find node_modules -maxdepth 3 -name package.json -not -path '*/node_modules/*/node_modules/*' -printf '%h\n' | sort); do
    licence="$(ls "$dir" | grep -iE '^(licen[cs]e|copying)' | head -n 1 || true)"
    [ -n "$licence" ] || continue
    echo
    echo "================================================================"
    node -p "const p = require('./$dir/package.json'); p.name + ' ' + p.version + ' (' + p.license + ')'"
    echo "================================================================"
    cat "$dir/$licence"
  done
} >"$out/LICENSES.txt"
ls -l "$out"
