#!/usr/bin/env bash
# Refresh the console's vendored htmx from the npm registry (the file is committed; the
# build does not need the network). Usage: scripts/vendor-htmx.sh [VERSION]
set -euo pipefail
version="${1:-2.0.11}"
dest="$(cd "$(dirname "$0")/.." && pwd)/src/openlfr/web/static"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack "htmx.org@${version}" --silent >/dev/null && tar xzf htmx.org-*.tgz)
cp "$tmp/package/dist/htmx.min.js" "$dest/htmx.min.js"
sed -i "s/htmx.org [0-9.]*/htmx.org ${version}/; s/htmx.org@[0-9.]*/htmx.org@${version}/" \
  "$dest/VENDORED.txt"
echo "vendored htmx.org ${version} into ${dest}"
