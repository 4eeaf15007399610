#!/usr/bin/env bash
# make.sh - regenerate the PDFs of tests/letters/pdf/ and their expected records.
#
#   bash tests/letters/pdf/make.sh [PATH-TO-imr]      (default: build/imr)
#
# For each letter NAME below: NAME.json is the record the parser gives for the text letter
# tests/letters/NAME.txt, and NAME.pdf is that record typeset by our PDF renderer. The test
# (tests/test_render.c) parses each PDF and expects NAME.json. SOURCE_DATE_EPOCH makes the
# PDFs byte-identical from run to run. Every step must succeed, else nothing is replaced.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
letters="$(dirname "$here")"
imr="${1:-$(cd "$here/../../.." && pwd)/build/imr}"
[ -x "$imr" ] || { echo "make.sh: no imr binary at $imr (build first, or pass its path)" >&2; exit 66; }

# Chosen to cover: the credentials sentence (101) and the credentials lines (113, 120),
# a full header block and many items (113: eight), documents reviewed (120), text beyond
# ASCII (130), and the 2013 notice (133).
NAMES=(
  101_overturned-pt-cervical-header
  113_eight-items-failed-back
  120_cbt-overturned-xanax-upheld-docs
  130_trigger-points-upheld-massage-overturned-utf8
  133_notice2013-three-items-no-header
)

export SOURCE_DATE_EPOCH=1420070400   # 2015-01-01T00:00:00Z
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

for name in "${NAMES[@]}"; do
  txt="$letters/$name.txt"
  [ -f "$txt" ] || { echo "make.sh: $txt is missing" >&2; exit 66; }
  "$imr" parse "$txt" > "$tmp/$name.json"
  "$imr" render --format pdf -o "$tmp/$name.pdf" "$tmp/$name.json"
  # the PDF must read back to the same record before it is kept
  "$imr" parse "$tmp/$name.pdf" > "$tmp/$name.back.json"
  if ! cmp -s "$tmp/$name.json" "$tmp/$name.back.json"; then
    echo "make.sh: $name.pdf does not parse back to $name.json:" >&2
    diff "$tmp/$name.json" "$tmp/$name.back.json" | head -20 >&2
    exit 65
  fi
done

rm -f "$here"/*.pdf "$here"/*.json
for name in "${NAMES[@]}"; do
  cp "$tmp/$name.json" "$tmp/$name.pdf" "$here/"
done
echo "make.sh: wrote ${#NAMES[@]} PDFs and records to $here"
