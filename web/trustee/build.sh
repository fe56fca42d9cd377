#!/bin/sh
# Builds the trustee page's program: internal/web/static/trustee/trustee.wasm,
# koe's own trustee code (cmd/koe-trustee-wasm, internal/trusteeflow)
# compiled to WebAssembly, and next to it wasm_exec.js, the Go toolchain's
# loader, which must match the Go that built the program. `koe serve`
# embeds both when it is built after this (go:embed); without them the
# trustee page says the program is not built. Both files are generated:
# they are not in git. Run from anywhere; needs only Go.
set -eu
cd "$(dirname "$0")/../.."
out=internal/web/static/trustee
GOOS=js GOARCH=wasm go build -trimpath -ldflags=-s -o "$out/trustee.wasm" ./cmd/koe-trustee-wasm
root=$(go env GOROOT)
for loader in "$root/lib/wasm/wasm_exec.js" "$root/misc/wasm/wasm_exec.js"; do
  if [ -f "$loader" ]; then
    cp "$loader" "$out/wasm_exec.js"
    break
  fi
done
if [ ! -f "$out/wasm_exec.js" ]; then
  echo "web/trustee/build.sh: no wasm_exec.js in $root/lib/wasm or $root/misc/wasm" >&2
  exit 1
fi
f="$out/trustee.wasm"
echo "$f: $(wc -c < "$f") bytes, $(gzip -9 -c "$f" | wc -c) bytes gzipped"
