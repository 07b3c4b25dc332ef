#!/bin/sh
# Build PolicyPass's unbranded GOV.UK Frontend assets into static/govuk/.
#
#   npm run build                      (or: sh scripts/build_assets.sh)
#   sh scripts/build_assets.sh --force (rebuild even when up to date)
#
# Writes (static/govuk/ is gitignored):
#   static/govuk/app.css                   assets/scss/app.scss compiled, compressed
#   static/govuk/govuk-frontend.min.js     + .map, copied from node_modules
#   static/govuk/images/<name>             only images the compiled CSS references
# Never copies fonts, the crown/crest or the GOV.UK favicons and manifest.
# Needs `npm ci` first. Idempotent: skips work when the output is newer than
# every input, and swaps the finished directory into place in one rename.
set -eu

cd "$(dirname "$0")/.."

OUT=static/govuk
GOVUK=node_modules/govuk-frontend/dist/govuk
SASS=node_modules/.bin/sass

if [ ! -x "$SASS" ] || [ ! -f "$GOVUK/govuk-frontend.min.js" ]; then
  echo "build_assets: node_modules is missing; run 'npm ci' first" >&2
  exit 1
fi

if [ "${1:-}" != "--force" ] && [ -f "$OUT/app.css" ] && [ -f "$OUT/govuk-frontend.min.js" ] \
  && [ -z "$(find assets/scss scripts/build_assets.sh package-lock.json node_modules/.package-lock.json \
              -newer "$OUT/app.css" -print 2>/dev/null | head -n 1)" ]; then
  echo "build_assets: $OUT is up to date"
  exit 0
fi

mkdir -p static
TMP=$(mktemp -d static/.govuk-build.XXXXXX)
trap 'rm -rf "$TMP"' EXIT INT TERM

"$SASS" --no-source-map --style=compressed --quiet-deps \
  --load-path=node_modules assets/scss/app.scss "$TMP/app.css"

cp "$GOVUK/govuk-frontend.min.js" "$GOVUK/govuk-frontend.min.js.map" "$TMP/"

# Copy exactly the images the CSS asks for (today: none, because the crest is
# dropped in assets/scss/_url-handlers.scss).
for name in $(grep -o '/static/govuk/images/[A-Za-z0-9._-]*' "$TMP/app.css" | sed 's#.*/##' | sort -u); do
  mkdir -p "$TMP/images"
  cp "$GOVUK/assets/images/$name" "$TMP/images/$name"
done

if grep -q 'GDS Transport' "$TMP/app.css" || grep -Eq 'url\([^)]*\.woff' "$TMP/app.css"; then
  echo "build_assets: app.css still references GDS Transport fonts" >&2
  exit 1
fi

chmod 755 "$TMP"
rm -rf "$OUT.old"
[ -d "$OUT" ] && mv "$OUT" "$OUT.old"
mv "$TMP" "$OUT"
rm -rf "$OUT.old"
trap - EXIT INT TERM
echo "build_assets: wrote $OUT/ ($(wc -c < "$OUT/app.css") bytes of CSS)"
