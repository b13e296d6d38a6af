# SPDX-License-Identifier: MIT
# report.sh - --report=FILE: one JSON object per run, per the schema:
# {"version":1,"exit_status":N,"timed_out":bool,"signal_sent":"TERM"|null,
#  "elapsed_s":F,"user":S|null,"group":S|null,"groups":[S...]|null,
#  "umask":"0022"|null,"rlimits":{"nofile":{"soft":N|"unlimited","hard":...}},
#  "stages":[{"argv":[...],"pid":N,"exit_code":N|null,
#  "signal":"PIPE"|null,"signal_number":N|null,"core_dumped":bool,"status":N,
#  "spawn_error":null|"...","user_s":F,"sys_s":F,"maxrss_kb":N}]}
. "$TOOL_TESTS_DIR/lib.sh"
cd "$TMP" || exit 99

"$PRUN" --report=pipe.json sh -c 'exit 3' '|' cat
"$PRUN" --report=sigpipe.json yes '|' head -1 >/dev/null
"$PRUN" --report=timeout.json -t 0.2 sleep 30
"$PRUN" --report=spawn.json true '|' prun-no-such-command 2>/dev/null
sh -c '"$0" --report=segv.json sh -c "kill -SEGV \$\$"' "$PRUN" 2>/dev/null
"$PRUN" --report=bad.json --stdout=nodir/x true 2>/dev/null
"$PRUN" --report=strings.json true 'q"uote' 'back\slash' 'new
line' "$(printf 'tab\tctl\001')" 'é€😀' "$(printf 'bad\377byte')" ''
"$PRUN" --report=forward.json --pipefail -v -t 0.2 -s INT -k 5 sleep 30 '|' true 2>/dev/null
hard_core=$(ulimit -Hc)
"$PRUN" --report=limits.json --umask=027 --rlimit=nofile=64:128 --rlimit=core="0:$hard_core" \
    --rlimit=nofile=32 true
"$PRUN" --report=badlimit.json --rlimit=nofile=unlimited true 2>/dev/null
reports="pipe.json sigpipe.json timeout.json spawn.json segv.json bad.json strings.json forward.json limits.json badlimit.json"
if [ "$(id -u)" = 0 ]; then
    "$PRUN" --report=creds.json -U nobody -G 65534 --groups= true
    "$PRUN" --report=groups.json --groups=0,65534 true
    "$PRUN" --report=nouser.json -U prun-no-such-user true 2>/dev/null
    reports="$reports creds.json groups.json nouser.json"
fi

# A report that cannot be written is prun's failure, whatever the command did.
if [ -w /dev/full ]; then
    status_is 125 "report to a full disk" "$PRUN" --report=/dev/full sh -c 'exit 3' 2>err
    same "report write error" "$(cat err)" "prun: cannot write the report to '/dev/full': No space left on device"
fi

if [ "$HAVE_PYTHON" = 0 ]; then
    # Without python3: the fields are there, at least.
    contains "exit_status" pipe.json '"exit_status":0'
    contains "stage fields" pipe.json '"exit_code":3,"signal":null,"signal_number":null,"core_dumped":false,"status":3,"spawn_error":null'
    contains "SIGPIPE stage" sigpipe.json '"exit_code":null,"signal":"PIPE","signal_number":13'
    contains "timeout" timeout.json '"exit_status":124,"timed_out":true,"signal_sent":"TERM"'
    contains "spawn error" spawn.json '"spawn_error":"failed to run command'
    finish
fi

# Every report against the schema (types, the exact set of keys, one line).
cat > schema.py <<'PY'
import json, sys

TOP = {"version", "exit_status", "timed_out", "signal_sent", "elapsed_s", "user", "group",
       "groups", "umask", "rlimits", "stages"}
STAGE = {"argv", "pid", "exit_code", "signal", "signal_number", "core_dumped", "status",
         "spawn_error", "user_s", "sys_s", "maxrss_kb"}

RLIMITS = {"as", "core", "cpu", "data", "fsize", "locks", "memlock", "msgqueue", "nice", "nofile",
           "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"}

def is_int(v):
    return isinstance(v, int) and not isinstance(v, bool)

def is_num(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)

def check(path):
    text = open(path, encoding="utf-8").read()
    assert text.endswith("\n") and text.count("\n") == 1, "not one line"
    r = json.loads(text)
    assert set(r) == TOP, sorted(set(r) ^ TOP)
    assert r["version"] == 1
    assert is_int(r["exit_status"]) and 0 <= r["exit_status"] <= 255
    assert isinstance(r["timed_out"], bool)
    assert r["signal_sent"] is None or isinstance(r["signal_sent"], str)
    assert is_num(r["elapsed_s"]) and r["elapsed_s"] >= 0
    assert r["user"] is None or isinstance(r["user"], str)
    assert r["group"] is None or isinstance(r["group"], str)
    assert r["groups"] is None or (isinstance(r["groups"], list) and all(isinstance(g, str) for g in r["groups"]))
    assert r["umask"] is None or (isinstance(r["umask"], str) and len(r["umask"]) == 4
                                  and int(r["umask"], 8) <= 0o777)
    assert isinstance(r["rlimits"], dict)
    for name, l in r["rlimits"].items():
        assert name in RLIMITS, name
        assert set(l) == {"soft", "hard"}
        assert all(l[k] == "unlimited" or (is_int(l[k]) and l[k] >= 0) for k in l)
    assert isinstance(r["stages"], list) and r["stages"]
    for s in r["stages"]:
        assert set(s) == STAGE, sorted(set(s) ^ STAGE)
        assert isinstance(s["argv"], list) and all(isinstance(a, str) for a in s["argv"])
        assert is_int(s["pid"]) and s["pid"] >= 0
        assert s["exit_code"] is None or is_int(s["exit_code"])
        assert s["signal"] is None or isinstance(s["signal"], str)
        assert s["signal_number"] is None or is_int(s["signal_number"])
        assert (s["signal"] is None) == (s["signal_number"] is None)
        assert s["exit_code"] is None or s["signal"] is None
        assert isinstance(s["core_dumped"], bool)
        assert is_int(s["status"])
        if s["exit_code"] is not None:
            assert s["status"] == s["exit_code"]
        if s["signal_number"] is not None:
            assert s["status"] == 128 + s["signal_number"]
        assert s["spawn_error"] is None or isinstance(s["spawn_error"], str)
        assert is_num(s["user_s"]) and s["user_s"] >= 0
        assert is_num(s["sys_s"]) and s["sys_s"] >= 0
        assert is_int(s["maxrss_kb"]) and s["maxrss_kb"] >= 0

for path in sys.argv[1:]:
    try:
        check(path)
    except Exception as e:
        print("%s: %r" % (path, e))
PY
same "every report fits the schema" \
    "$("$PYTHON" schema.py $reports 2>&1)" ""

field() {
    json_field "$1" "$2"
}
same "exit_status: the last stage's" "$(field pipe.json 'r["exit_status"]')" 0
same "argv" "$(field pipe.json 'r["stages"][0]["argv"]')" "['sh', '-c', 'exit 3']"
same "exit_code" "$(field pipe.json '[s["exit_code"] for s in r["stages"]]')" "[3, 0]"
same "no signal" "$(field pipe.json '(r["timed_out"], r["signal_sent"], r["stages"][0]["signal"])')" \
    "(False, None, None)"
same "pids" "$(field pipe.json 'all(s["pid"] > 0 for s in r["stages"]) and r["stages"][0]["pid"] != r["stages"][1]["pid"]')" True
same "maxrss" "$(field pipe.json 'all(s["maxrss_kb"] > 0 for s in r["stages"])')" True
same "SIGPIPE stage" "$(field sigpipe.json '[(s["exit_code"], s["signal"], s["signal_number"], s["status"]) for s in r["stages"]]')" \
    "[(None, 'PIPE', 13, 141), (0, None, None, 0)]"
same "timeout" "$(field timeout.json '(r["exit_status"], r["timed_out"], r["signal_sent"], r["stages"][0]["signal"])')" \
    "(124, True, 'TERM', 'TERM')"
same "timeout elapsed" "$(field timeout.json '0.15 <= r["elapsed_s"] < 10')" True
same "spawn error" "$(field spawn.json '(r["exit_status"], r["stages"][1]["spawn_error"], r["stages"][1]["status"])')" \
    "(127, \"failed to run command 'prun-no-such-command': No such file or directory\", 127)"
same "nothing left of the stages" "$(field spawn.json '[s["pid"] for s in r["stages"]]')" "[0, 0]"
same "re-raised signal: 128+N" "$(field segv.json '(r["exit_status"], r["stages"][0]["signal"])')" "(139, 'SEGV')"
same "125 before the start" "$(field bad.json '(r["exit_status"], r["stages"][0]["pid"], r["stages"][0]["exit_code"])')" \
    "(125, 0, None)"
same "strings escaped" "$(field strings.json 'r["stages"][0]["argv"][1:] == ["q\"uote", "back\\slash", "new\nline", "tab\tctl\x01", "é€😀", "bad\ufffdbyte", ""]')" True
same "-s INT sent, pipefail status" "$(field forward.json '(r["exit_status"], r["signal_sent"], r["stages"][0]["signal"])')" \
    "(124, 'INT', 'INT')"
same "nothing asked for: null and {}" \
    "$(field pipe.json '(r["user"], r["group"], r["groups"], r["umask"], r["rlimits"])')" \
    "(None, None, None, None, {})"
same "umask and rlimits, the last --rlimit of a resource winning" \
    "$(field limits.json '(r["umask"], r["rlimits"]["nofile"], r["rlimits"]["core"]["soft"], len(r["rlimits"]))')" \
    "('0027', {'soft': 32, 'hard': 32}, 0, 2)"
if [ "$hard_core" = unlimited ]; then
    same "unlimited" "$(field limits.json 'r["rlimits"]["core"]["hard"]')" unlimited
fi
same "a limit the kernel refuses: 125, reported" \
    "$(field badlimit.json '(r["exit_status"], r["rlimits"]["nofile"], r["stages"][0]["pid"])')" \
    "(125, {'soft': 'unlimited', 'hard': 'unlimited'}, 0)"
if [ "$(id -u)" = 0 ]; then
    same "user, group, groups cleared" "$(field creds.json '(r["exit_status"], r["user"], r["group"], r["groups"])')" \
        "(0, 'nobody', '65534', [])"
    same "groups" "$(field groups.json '(r["user"], r["groups"])')" "(None, ['0', '65534'])"
    same "an unknown user: 125" "$(field nouser.json '(r["exit_status"], r["user"], r["stages"][0]["pid"])')" \
        "(125, 'prun-no-such-user', 0)"
fi

finish
