#!/bin/sh
# Builds the booth's cryptography bundle: web/booth/dist/koe.min.js
# (an ES module; see README.md). Run from anywhere; needs Node ≥ 20 and npm.
set -eu
cd "$(dirname "$0")"
npm ci --no-audit --no-fund
mkdir -p dist
npx esbuild src/koe.js --bundle --format=esm --minify --target=es2022 --outfile=dist/koe.min.js
raw=$(wc -c < dist/koe.min.js)
gz=$(gzip -9 -c dist/koe.min.js | wc -c)
echo "dist/koe.min.js: $raw bytes, $gz bytes gzipped"
