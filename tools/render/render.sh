#!/bin/sh
# Render a BPMN diagram to PNG with bpmn-js (NavigatedViewer) in headless Chromium.
# Usage: tools/render/render.sh FILE.bpmn OUT.png [WIDTHxHEIGHT]
# Set VIEWBOX=x,y,w,h to render only that part of the diagram (for close-ups).
# Needs: `npm install` at the repository root (node_modules/bpmn-js) and the
# Debian package `chromium`. No network access is used.
set -eu
if [ $# -lt 2 ]; then
  echo "usage: $0 FILE.bpmn OUT.png [WIDTHxHEIGHT]" >&2
  exit 2
fi
IN=$(realpath "$1")
OUT=$(realpath -m "$2")
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
if [ ! -f "$ROOT/node_modules/bpmn-js/dist/bpmn-navigated-viewer.production.min.js" ]; then
  echo "node_modules/bpmn-js is missing: run 'npm install' in $ROOT" >&2
  exit 1
fi
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)}
if [ -z "$CHROMIUM" ]; then
  echo "chromium not found (apt-get install -y chromium)" >&2
  exit 1
fi
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The diagram is handed to the page as a script (file:// pages may load scripts, not fetch files).
# The window size defaults to the diagram's own extent (1:1 scale) plus a margin.
node -e '
const fs = require("fs");
const xml = fs.readFileSync(process.argv[1], "utf8");
fs.writeFileSync(process.argv[2], "window.BPMN_XML = " + JSON.stringify(xml) + ";\n");
let w = 0, h = 0;
for (const m of xml.matchAll(/<dc:Bounds\s+([^>]*)\/?>/g)) {
  const a = {};
  for (const p of m[1].matchAll(/(\w+)="([-\d.]+)"/g)) a[p[1]] = parseFloat(p[2]);
  w = Math.max(w, (a.x || 0) + (a.width || 0));
  h = Math.max(h, (a.y || 0) + (a.height || 0));
}
fs.writeFileSync(process.argv[3], Math.ceil(w + 60) + "," + Math.ceil(h + 60));
' "$IN" "$TMP/diagram.js" "$TMP/size"
SIZE=${3:-$(cat "$TMP/size")}
SIZE=$(echo "$SIZE" | tr 'x' ',')

"$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$TMP/profile" --virtual-time-budget=5000 \
  --window-size="$SIZE" --screenshot="$OUT" \
  "file://$HERE/render.html?data=file://$TMP/diagram.js${VIEWBOX:+&viewbox=$VIEWBOX}" >"$TMP/log" 2>&1 || {
    cat "$TMP/log" >&2; exit 1; }
[ -s "$OUT" ] || { cat "$TMP/log" >&2; echo "no screenshot written" >&2; exit 1; }
echo "$OUT ($SIZE)"
