#!/usr/bin/env bash
# extract.sh - `imr extract` as a command: text and JSON output, standard input, -o, and
# the documented exit codes for bad use and bad input (64 usage, 65 bad data, 66 missing
# input), each with a message naming the place.
#
# usage: bash tests/cli/extract.sh PATH/TO/imr SOURCE_DIR
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: bash extract.sh PATH/TO/imr SOURCE_DIR" >&2
    exit 64
fi
IMR=$1
SRC=$2
export IMR_RULES=${IMR_RULES:-$SRC/rules}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "extract.sh: FAIL: $*" >&2; fails=$((fails + 1)); }

# expect STATUS TEXT-IN-STDERR -- command...
expect() {
    local want=$1 msg=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local got=$?
    [ "$got" -eq "$want" ] || fail "$* exited $got, expected $want ($(cat "$tmp/err"))"
    [ -z "$msg" ] || grep -qF -- "$msg" "$tmp/err" || fail "$*: stderr lacks '$msg': $(cat "$tmp/err")"
}

text='This 58 year old man denies side effects. He has taken Norco since at least May 2015. Pain was 8/10 and is now 4/10 after the injection.'

# text output from standard input
printf '%s\n' "$text" | "$IMR" extract >"$tmp/out" 2>"$tmp/err" || fail "extract from stdin: $(cat "$tmp/err")"
grep -q 'affirmed age value=58 "58 year old"' "$tmp/out" || fail "no age line: $(cat "$tmp/out")"
grep -q 'negated side_effects "side effects"' "$tmp/out" || fail "no negated side effects: $(cat "$tmp/out")"
grep -q 'duration=since at least May 2015' "$tmp/out" || fail "no duration: $(cat "$tmp/out")"

# JSON from a file, pretty and compact, and the spans point into the text
printf '%s\n' "$text" >"$tmp/note.txt"
"$IMR" extract --json "$tmp/note.txt" >"$tmp/out.json" 2>"$tmp/err" || fail "extract --json: $(cat "$tmp/err")"
"$IMR" extract --compact "$tmp/note.txt" >"$tmp/out.compact" 2>"$tmp/err" || fail "extract --compact: $(cat "$tmp/err")"
[ "$(wc -l <"$tmp/out.compact")" -eq 1 ] || fail "--compact is not one line"
if command -v python3 >/dev/null; then
    python3 - "$tmp/out.json" "$tmp/out.compact" "$tmp/note.txt" <<'EOF' || fail "JSON output is wrong"
import json, sys
pretty, compact = (json.load(open(p)) for p in sys.argv[1:3])
text = open(sys.argv[3], 'rb').read()
assert pretty == compact, "pretty and compact differ"
facts = pretty["facts"]
keys = ["type", "name", "value", "qualifier", "date", "duration", "attributed_to", "score",
        "score2", "assertion", "start", "end", "text"]
assert facts and all(list(f) == keys for f in facts), "keys"
for f in facts:
    assert text[f["start"]:f["end"]].decode() == f["text"], f
pain = [f for f in facts if f["type"] == "pain_score"][0]
assert pain["value"] == "8/10" and pain["score"] == 8 and pain["score2"] == 4, pain
assert pain["attributed_to"] == "injection", pain
EOF
fi

# -o writes the file, nothing on standard output
"$IMR" extract --json -o "$tmp/written.json" "$tmp/note.txt" >"$tmp/out" 2>"$tmp/err" || fail "-o: $(cat "$tmp/err")"
[ -s "$tmp/written.json" ] && [ ! -s "$tmp/out" ] || fail "-o did not write the file only"
cmp -s "$tmp/written.json" "$tmp/out.json" || fail "-o output differs from standard output"

# an empty text has no facts
: >"$tmp/empty.txt"
"$IMR" extract --compact "$tmp/empty.txt" >"$tmp/out" 2>"$tmp/err" || fail "empty text: $(cat "$tmp/err")"
grep -qx '{"facts":\[\]}' "$tmp/out" || fail "empty text gave: $(cat "$tmp/out")"

# errors
expect 66 "$tmp/missing.txt" "$IMR" extract "$tmp/missing.txt"
expect 64 "unknown option '--frobnicate'" "$IMR" extract --frobnicate
expect 64 "one FILE at most" "$IMR" extract "$tmp/note.txt" "$tmp/note.txt"
printf 'line one\nthe knee \xff\xfe hurts\n' >"$tmp/bad.txt"
expect 65 "bad.txt:2: invalid UTF-8 at byte 18" "$IMR" extract "$tmp/bad.txt"
expect 0 "" "$IMR" extract --help
grep -q "usage: imr extract" "$tmp/out" || fail "--help prints no usage"

# a broken vocabulary is reported with its file and line, exit 65
mkdir -p "$tmp/rules"
cp -r "$IMR_RULES"/. "$tmp/rules/"
printf 'knee\tbody_part\tknee\nelbow\tbody_prat\telbow\n' >"$tmp/rules/extract/zz_local.tsv"
IMR_RULES="$tmp/rules" expect 65 "zz_local.tsv:2: unknown class 'body_prat'" "$IMR" extract "$tmp/note.txt"

if [ "$fails" -ne 0 ]; then
    echo "extract.sh: $fails failure(s)" >&2
    exit 1
fi
echo "extract.sh: all checks passed"
