#!/bin/sh
# Builds the booth's script: internal/web/static/booth/booth.js, the page
# script (src/booth.js) with the cryptography (src/koe.js) and its
# libraries, one ES module that `koe serve` embeds when it is built after
# this (go:embed). Also web/booth/dist/koe.min.js, the cryptography alone.
# Run from anywhere; needs Node ≥ 20 and npm. KOE_BOOTH_OFFLINE=1 skips npm ci.
set -eu
cd "$(dirname "$0")"
if [ "${KOE_BOOTH_OFFLINE:-}" != 1 ] || [ ! -d node_modules ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out=../../internal/web/static/booth
mkdir -p dist "$out"
npx esbuild src/koe.js --bundle --format=esm --minify --target=es2022 --log-level=warning --outfile=dist/koe.min.js
npx esbuild src/booth.js --bundle --format=esm --minify --target=es2022 --log-level=warning --outfile="$out/booth.js"
for f in dist/koe.min.js "$out/booth.js"; do
  echo "$f: $(wc -c < "$f") bytes, $(gzip -9 -c "$f" | wc -c) bytes gzipped"
done
# The trustee page's program is built with the booth: whatever builds the
# site's scripts (scripts/test, scripts/serve, .ci/run) builds it too.
sh ../trustee/build.sh
