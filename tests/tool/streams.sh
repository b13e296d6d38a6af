# SPDX-License-Identifier: MIT
# streams.sh - --stdin, --stdout, --stderr, --append, --merge-stderr.
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

printf 'hello\nworld\n' > in

# --stdin: the first stage reads FILE; --stdout: the last stage writes it.
same "--stdin" "$("$PRUN" --stdin=in cat)" "hello
world"
"$PRUN" --stdin=in --stdout=out cat '|' tr a-z A-Z
same "--stdin to the first, --stdout from the last" "$(cat out)" "HELLO
WORLD"
same "--stdin only for the first stage" "$(echo outer | "$PRUN" --stdin=in head -1 '|' cat)" hello

# --stdout truncates, --append appends; files are created.
echo old > out
"$PRUN" --stdout=out echo new
same "--stdout truncates" "$(cat out)" new
"$PRUN" --append --stdout=out echo more
same "--append appends" "$(cat out)" "new
more"
"$PRUN" --stdout=created echo made
same "--stdout creates" "$(cat created)" made

# --stderr: every stage's errors.
"$PRUN" --stderr=err sh -c 'echo one >&2; echo data' '|' sh -c 'cat; echo two >&2' > data
same "--stderr from every stage" "$(sort err)" "one
two"
same "stdout untouched by --stderr" "$(cat data)" data
echo keep > err
"$PRUN" --append --stderr=err sh -c 'echo added >&2'
same "--append for --stderr" "$(cat err)" "keep
added"

# --merge-stderr: each stage's stderr goes where its stdout goes.
"$PRUN" --merge-stderr --stdout=merged sh -c 'echo out; echo err >&2'
same "--merge-stderr into --stdout" "$(sort merged)" "err
out"
same "--merge-stderr into the next stage" \
    "$("$PRUN" --merge-stderr sh -c 'echo err >&2' '|' tr a-z A-Z 2>/dev/null)" ERR
same "--merge-stderr to prun's stdout" "$("$PRUN" --merge-stderr sh -c 'echo err >&2' 2>/dev/null)" err
status_is 125 "--merge-stderr with --stderr" "$PRUN" --merge-stderr --stderr=x true 2>/dev/null

# --stdout and --stderr naming one file share it, as >f 2>&1 does.
"$PRUN" --stdout=both --stderr=both sh -c 'echo out1; echo err1 >&2; echo out2'
same "one file for both" "$(cat both)" "out1
err1
out2"

# Every file is opened before anything starts: one bad file, nothing runs,
# and the good output file is not left half-written by a command.
status_is 125 "bad --stdin among good files" \
    "$PRUN" --stdout=never --stdin=missing touch ran 2>/dev/null
status_is 125 "bad --stderr" "$PRUN" --stderr=nodir/x touch ran 2>/dev/null
check "nothing ran" ! -e ran

# prun keeps no copy of --stdout once the stages have theirs: a FIFO
# reader sees EOF as soon as the stage closes its end, while prun still
# runs.  (Were prun holding a copy, the stage would wait for "go" until
# the -t 10 limit.)
mkfifo fifo go
(cat fifo > fifo.out; echo eof > go) &
reader=$!
status_is 0 "EOF while prun runs" \
    "$PRUN" -t 10 --stdout=fifo sh -c 'echo through; exec >/dev/null; read x < go; test "$x" = eof'
kill "$reader" 2>/dev/null
wait "$reader"
same "--stdout to a FIFO" "$(cat fifo.out)" through

finish
