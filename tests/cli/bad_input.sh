#!/usr/bin/env bash
# bad_input.sh - bad input of every kind for `imr parse` and `imr render`.
#
# usage: bash tests/cli/bad_input.sh PATH/TO/imr SOURCE_DIR
#
# For each bad input the command must exit with the documented status (64 usage, 65 bad
# data, 66 missing input; DESIGN.md), print a message on stderr that names the input (and
# the line, where there is one), print nothing on stdout, and with -o OUT leave no output
# file and no temporary file behind. A few good inputs are run too, so that a command that
# fails on everything cannot pass. Inputs are made at test time in a temporary folder: the
# letters come from fuzz/corpus/letter/, the garbage from Python's random with fixed seeds,
# the 100 MB files from truncate(1) and yes(1).
#
# Prints one line per check and a final "N passed, M failed" line; exits 1 on any failure.
set -u

if [ $# -ne 2 ] || [ ! -x "$1" ] || [ ! -d "$2" ]; then
    echo "usage: bash bad_input.sh PATH/TO/imr SOURCE_DIR" >&2
    exit 64
fi
IMR=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
SRC=$(cd "$2" && pwd)
LETTERS=$SRC/fuzz/corpus/letter
T=$(mktemp -d "${TMPDIR:-/tmp}/imr-bad-input.XXXXXX")
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 70
PASS=0
FAIL=0

pass() { PASS=$((PASS + 1)); echo "ok   $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1: $2"; }

# run CMD...: run in the temporary folder, capturing stdout, stderr and the status.
run() {
    "$@" >"$T/stdout" 2>"$T/stderr"
    STATUS=$?
}

# expect NAME STATUS PATTERN CMD...: the command fails with STATUS, stderr matches the
# extended regex PATTERN (which names the input), stdout is empty.
expect() {
    local name=$1 want=$2 pattern=$3
    shift 3
    run "$@"
    local why=""
    [ "$STATUS" -eq "$want" ] || why="exit status $STATUS, expected $want"
    grep -Eq -- "$pattern" "$T/stderr" || why="${why:+$why; }stderr does not match /$pattern/: $(head -c 200 "$T/stderr")"
    [ ! -s "$T/stdout" ] || why="${why:+$why; }$(wc -c <"$T/stdout") bytes on stdout"
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

# expect_no_output NAME STATUS CMD... (the command holds -o out/OUT): as above for status,
# and the out/ folder must be empty afterwards (no output file, no temporary file).
expect_no_output() {
    local name=$1 want=$2
    shift 2
    rm -rf "$T/out"
    mkdir "$T/out"
    run "$@"
    local why="" left
    [ "$STATUS" -eq "$want" ] || why="exit status $STATUS, expected $want"
    left=$(ls -A "$T/out")
    [ -z "$left" ] || why="${why:+$why; }left behind: $left"
    [ -s "$T/stderr" ] || why="${why:+$why; }no message on stderr"
    if [ -z "$why" ]; then pass "$name"; else fail "$name" "$why"; fi
}

# expect_ok NAME CMD...: the command succeeds and writes something to stdout.
expect_ok() {
    local name=$1
    shift
    run "$@"
    if [ "$STATUS" -eq 0 ] && [ -s "$T/stdout" ]; then
        pass "$name"
    else
        fail "$name" "exit status $STATUS, $(wc -c <"$T/stdout") bytes on stdout: $(head -c 200 "$T/stderr")"
    fi
}

for f in fdl_sentence.txt fdl_overturned.txt notice_2013.txt; do
    [ -f "$LETTERS/$f" ] || { echo "bad_input.sh: $LETTERS/$f is missing" >&2; exit 66; }
done

# ---------------------------------------------------------------- inputs
: >empty.txt
cp "$LETTERS/fdl_sentence.txt" good.txt
python3 - <<'EOF' || exit 70
import random
r = random.Random(20151119)
open('garbage.bin', 'wb').write(bytes(r.randrange(256) for _ in range(8192)))
r = random.Random(7)
words = ['the', 'request', 'pain', 'Norco', 'guideline', 'UPHELD', 'of', ':', '\n', '\n\n']
open('garbage.txt', 'w').write(' '.join(r.choice(words) for _ in range(3000)))
# A letter with one invalid UTF-8 byte on a known line (line 41 of the file).
lines = open('good.txt', encoding='utf-8').read().split('\n')
assert len(lines) > 60
lines[40] = lines[40][:10] + '\udcff' + lines[40][10:]
open('bad_utf8.txt', 'w', encoding='utf-8', errors='surrogateescape').write('\n'.join(lines))
# Overlong encoding and a lone continuation byte, alone.
open('bad_utf8_short.txt', 'wb').write(b'HOW THE IMR \xc0\xaf FINAL\n\x80\n')
s = open('good.txt').read()
open('cut_start.txt', 'w').write(s[:200])
open('cut_before_decisions.txt', 'w').write(s[:s.index('IMR ISSUES') if 'IMR ISSUES' in s else s.index('IMR DECISION')])
k = min(i for i in (s.find(': Upheld'), s.find(':  Upheld'), s.find(': Overturned'), s.find(':  Overturned')) if i > 0)
open('cut_after_title.txt', 'w').write(s[:s.index('\n', k) + 1])
EOF
python3 - "$LETTERS/fdl_overturned.txt" <<'EOF' || exit 70
import sys
s = open(sys.argv[1]).read()
k = s.rindex('medically')
open('cut_mid_sentence.txt', 'w').write(s[:k + 4])
EOF
truncate -s 100M big_sparse.txt
"$IMR" parse good.txt >record.json 2>/dev/null || { echo "bad_input.sh: imr parse cannot read $LETTERS/fdl_sentence.txt" >&2; exit 70; }
python3 - <<'EOF' || exit 70
import json
r = json.load(open('record.json'))
def write(name, value, indent=2):
    open(name, 'w').write(json.dumps(value, indent=indent) + '\n')
write('array.json', [r])
write('items_string.json', dict(r, items='Norco 10/325mg #120'))
write('age_string.json', dict(r, claimant={'age': 'sixty', 'sex': 'male'}))
write('no_items.json', {k: v for k, v in r.items() if k != 'items'})
write('bad_date.json', dict(r, date_of_injury='2015-02-30'))
write('bad_date_format.json', dict(r, date_of_injury='08/19/2015'))
write('final_unattested.json', dict(r, status='final', attestation=None))
bad = json.loads(json.dumps(r))
bad['items'][0]['decision'] = 'Approved'
write('bad_decision.json', bad)
write('number.json', 42)
text = json.dumps(r, indent=2)
open('cut.json', 'w').write(text[:len(text) // 2])
open('two_records.jsonl', 'w').write(json.dumps(r) + '\n' + json.dumps(dict(r, items=5)) + '\n')
open('bad_utf8.json', 'wb').write(json.dumps(r).replace('MAXIMUS', 'MAX\\u0000IMUS', 1).encode()[:200] + b'\xff\xfe"}\n')
EOF

# ---------------------------------------------------------------- imr parse
expect_ok "parse: a good letter is read" "$IMR" parse good.txt
expect "parse: empty file -> 65" 65 'empty\.txt' "$IMR" parse empty.txt
expect "parse: binary garbage -> 65" 65 'garbage\.bin' "$IMR" parse garbage.bin
expect "parse: text that is no letter -> 65 with a line" 65 'garbage\.txt:[0-9]+:' "$IMR" parse garbage.txt
expect "parse: invalid UTF-8 -> 65 naming line 41" 65 'bad_utf8\.txt:41:' "$IMR" parse bad_utf8.txt
expect "parse: overlong UTF-8 -> 65" 65 'bad_utf8_short\.txt:1:' "$IMR" parse bad_utf8_short.txt
expect "parse: letter cut after 200 bytes -> 65 with a line" 65 'cut_start\.txt:[0-9]+:' "$IMR" parse cut_start.txt
expect "parse: letter cut before its decisions -> 65 with a line" 65 'cut_before_decisions\.txt:[0-9]+:' "$IMR" parse cut_before_decisions.txt
expect "parse: letter cut after an item title -> 65 with a line" 65 'cut_after_title\.txt:[0-9]+:' "$IMR" parse cut_after_title.txt
expect "parse: letter cut in mid-sentence -> 65 with a line" 65 'cut_mid_sentence\.txt:[0-9]+:' "$IMR" parse cut_mid_sentence.txt
expect "parse: 100 MB file -> 65" 65 'big_sparse\.txt' "$IMR" parse big_sparse.txt
expect "parse: 100 MB on standard input -> 65" 65 '<stdin>' bash -c 'yes "Decision rationale: more text" | head -c 100000000 | "$0" parse' "$IMR"
expect "parse: missing file -> 66" 66 'no_such_letter\.txt' "$IMR" parse no_such_letter.txt
mkdir -p a_folder
expect "parse: a folder -> 66" 66 'a_folder' "$IMR" parse a_folder
expect "parse: unknown option -> 64" 64 'bogus' "$IMR" parse --bogus good.txt
expect "parse: -o without a file -> 64" 64 'parse' "$IMR" parse -o
expect_no_output "parse -o: empty file leaves nothing" 65 "$IMR" parse -o out/record.json empty.txt
expect_no_output "parse -o: truncated letter leaves nothing" 65 "$IMR" parse -o out/record.json cut_after_title.txt
expect_no_output "parse -o: missing file leaves nothing" 66 "$IMR" parse -o out/record.json no_such_letter.txt
expect_no_output "parse -o: a good and a bad letter leave nothing" 65 "$IMR" parse -o out/records.jsonl good.txt garbage.bin
run "$IMR" parse good.txt empty.txt
if [ "$STATUS" -eq 65 ] && [ "$(wc -l <"$T/stdout")" -eq 1 ] && grep -q 'empty\.txt' "$T/stderr"; then
    pass "parse: a good and a bad letter -> 65, the good record printed, the bad one named"
else
    fail "parse: a good and a bad letter" "exit status $STATUS, $(wc -l <"$T/stdout") lines on stdout"
fi
rm -rf out && mkdir out
run "$IMR" parse -o out/record.json good.txt
if [ "$STATUS" -eq 0 ] && [ -s out/record.json ] && [ "$(ls -A out)" = record.json ]; then
    pass "parse -o: a good letter writes exactly the output file"
else
    fail "parse -o: a good letter" "exit status $STATUS, folder holds: $(ls -A out)"
fi

# ---------------------------------------------------------------- imr render
expect_ok "render: a good record is written" "$IMR" render record.json
expect "render: empty file -> 65" 65 'empty\.txt' "$IMR" render empty.txt
expect "render: binary garbage -> 65" 65 'garbage\.bin' "$IMR" render garbage.bin
expect "render: invalid UTF-8 -> 65" 65 'bad_utf8\.json' "$IMR" render bad_utf8.json
expect "render: a letter instead of JSON -> 65 with a line" 65 'good\.txt:[0-9]+:' "$IMR" render good.txt
expect "render: an array -> 65" 65 'array\.json.*\$' "$IMR" render array.json
expect "render: a number -> 65" 65 'number\.json' "$IMR" render number.json
expect "render: items of the wrong type -> 65 naming items" 65 'items_string\.json.*items' "$IMR" render items_string.json
expect "render: age of the wrong type -> 65 naming claimant.age" 65 'age_string\.json.*claimant\.age' "$IMR" render age_string.json
expect "render: missing items -> 65 naming items" 65 'no_items\.json.*items' "$IMR" render no_items.json
expect "render: impossible date -> 65 naming date_of_injury" 65 'bad_date\.json.*date_of_injury' "$IMR" render bad_date.json
expect "render: date not ISO -> 65 naming date_of_injury" 65 'bad_date_format\.json.*date_of_injury' "$IMR" render bad_date_format.json
expect "render: final without attestation -> 65 naming status" 65 'final_unattested\.json.*status' "$IMR" render final_unattested.json
expect "render: unknown decision -> 65 naming the item" 65 'bad_decision\.json.*items\[0\]\.decision' "$IMR" render bad_decision.json
expect "render: truncated JSON -> 65 with its line" 65 'cut\.json:[0-9]+:' "$IMR" render cut.json
expect "render: second record of JSON Lines bad -> 65 naming line 2" 65 'two_records\.jsonl:2:' "$IMR" render two_records.jsonl
expect "render: 100 MB file -> 65" 65 'big_sparse\.txt' "$IMR" render big_sparse.txt
expect "render: 100 MB on standard input -> 65" 65 '<stdin>' bash -c 'yes "{\"a\": 1}" | head -c 100000000 | "$0" render' "$IMR"
expect "render: missing file -> 66" 66 'no_such_record\.json' "$IMR" render no_such_record.json
expect "render: a folder -> 66" 66 'a_folder' "$IMR" render a_folder
expect "render: unknown format -> 64" 64 'format' "$IMR" render --format xml record.json
expect "render: width out of range -> 64" 64 'width' "$IMR" render --width 5 record.json
expect "render: two input files -> 64" 64 'one input' "$IMR" render record.json record.json
expect "render: -o without a file -> 64" 64 '\-o' "$IMR" render -o
expect "render: unknown option -> 64" 64 'bogus' "$IMR" render --bogus record.json
for bad in empty.txt garbage.bin array.json items_string.json bad_date.json final_unattested.json cut.json two_records.jsonl big_sparse.txt; do
    expect_no_output "render -o: $bad leaves nothing" 65 "$IMR" render -o out/letter.txt "$bad"
done
expect_no_output "render -o html: bad record leaves nothing" 65 "$IMR" render --format html -o out/letter.html items_string.json
expect_no_output "render -o pdf: bad record leaves nothing" 65 "$IMR" render --format pdf -o out/letter.pdf no_items.json
expect_no_output "render -o: missing file leaves nothing" 66 "$IMR" render -o out/letter.txt no_such_record.json
rm -rf out && mkdir out
run "$IMR" render -o out/letter.txt record.json
if [ "$STATUS" -eq 0 ] && [ -s out/letter.txt ] && [ "$(ls -A out)" = letter.txt ]; then
    pass "render -o: a good record writes exactly the output file"
else
    fail "render -o: a good record" "exit status $STATUS, folder holds: $(ls -A out)"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
