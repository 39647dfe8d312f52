#!/usr/bin/env python3
"""The terminal views, driven as a person would under tmux:

- the live view (on by default when stdout is a terminal and the input a pipe): open
  episodes with their age in TTL cycles and holder, escalations so far, the last events,
  refreshed while the pipe stays open; `q` quits with the summary and the normal exit status;
- colour follows --color and NO_COLOR;
- progress on stderr for a batch run when stderr is a terminal, and nothing when it is not;
- a batch run over a large log reads in one or two screens, the incident first.

usage: terminal_ui.py LOCKWATCH
"""
import os, re, shlex, subprocess, sys, tempfile, time

lockwatch = os.path.abspath(sys.argv[1])
incident = open("fixtures/incident/input.log", encoding="utf-8").read().splitlines(keepends=True)
socket = f"lockwatch-test-{os.getpid()}"


def tmux(*args):
    return subprocess.run(["tmux", "-L", socket, *args], capture_output=True, text=True).stdout


def screen(session, escapes=False):
    return tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", session)


def wait_for(session, what, timeout=20, escapes=False):
    deadline = time.time() + timeout
    while time.time() < deadline:
        text = screen(session, escapes)
        if re.search(what, text):
            return text
        time.sleep(0.1)
    sys.exit(f"terminal: {what!r} did not appear; the screen:\n{screen(session)}")


def live_session(name, tmp, flags="", env=""):
    fifo = os.path.join(tmp, name + ".fifo")
    os.mkfifo(fifo)
    command = f"{env} {shlex.quote(lockwatch)} {flags} < {fifo}; echo EXIT=$?; sleep 60"
    tmux("new-session", "-d", "-s", name, "-x", "150", "-y", "40", "bash", "-c", command)
    return open(fifo, "w")  # blocks until lockwatch opens the pipe


try:
    with tempfile.TemporaryDirectory() as tmp:
        # 1. The live view, by default, mid-incident: the pipe stays open.
        pipe = live_session("live", tmp)
        pipe.writelines(incident[:12]); pipe.flush()
        text = wait_for("live", r"ESCALATION multi_profile")
        episodes = text.split("OPEN EPISODES")[1].split("ESCALATIONS SO FAR")[0]
        if not re.search(r"8d11c7e2.*ETH-USD\s+\d+s\s+\d+\.\d TTL\s+worker-1:a6a3a450\s+\d+", episodes):
            sys.exit(f"terminal: the open episode lacks age in TTL cycles, holder or failures:\n{text}")
        if "multi_profile 1" not in text:
            sys.exit(f"terminal: escalations so far not counted:\n{text}")
        pipe.writelines(incident[12:]); pipe.flush()
        wait_for("live", r"ESCALATION persistent")
        tmux("send-keys", "-t", "live", "q")
        text = wait_for("live", r"EXIT=\d")
        if "Summary" not in text or "EXIT=1" not in text:
            sys.exit(f"terminal: q did not end with the summary and exit 1:\n{text}")
        pipe.close()
        print("terminal: live view mid-incident, q quits with the summary (exit 1): ok")

        # 2. Colour: --color always paints the escalations; NO_COLOR leaves the screen plain.
        pipe = live_session("always", tmp, "--color always")
        pipe.writelines(incident); pipe.flush()
        text = wait_for("always", r"ESCALATION persistent", escapes=True)
        if not re.search(r"\x1b\[[0-9;]*31m", text):
            sys.exit("terminal: --color always shows no red")
        pipe.close()
        pipe = live_session("plain", tmp, "", env="NO_COLOR=1")
        pipe.writelines(incident); pipe.flush()
        text = wait_for("plain", r"ESCALATION persistent", escapes=True)
        if re.search(r"\x1b\[[0-9;]*3[0-7]m", text):
            sys.exit("terminal: NO_COLOR still shows colour")
        pipe.close()
        print("terminal: --color always and NO_COLOR: ok")

        # 3. Progress for a batch run: on a terminal, and not into a pipe.
        big = os.path.join(tmp, "big.log")
        with open(big, "w") as f:
            for i in range(400_000):
                s = i // 20
                f.write(f"2026-11-26 {14 + s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d},{i % 1000:03d} WARNING entry_lock: "
                        f"fn_try_acquire_entry_lock_row returned false profile_id=p{i % 50} symbol=BTC-USD "
                        f"owner_token=w1 caller_token=w2\n")
        piped = subprocess.run([lockwatch, big], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if b"\r" in piped.stderr or b"% \xc2\xb7" in piped.stderr:
            sys.exit(f"terminal: progress written to a stderr that is not a terminal: {piped.stderr[:200]!r}")
        tmux("new-session", "-d", "-s", "progress", "-x", "150", "-y", "10", "bash", "-c",
             f"{shlex.quote(lockwatch)} {big} > /dev/null; echo EXIT=$?; sleep 60")
        text = wait_for("progress", r"lockwatch: \d+% · [\d.]+ [KMG]?B of [\d.]+ [KMG]B · [\d.]+ [KMG]?B/s · .* left|EXIT=")
        if "EXIT=" in text:
            sys.exit("terminal: the batch run ended before any progress was shown (make the file bigger)")
        text = wait_for("progress", r"EXIT=\d", timeout=120)
        if "% ·" in text:
            sys.exit(f"terminal: the progress line was not cleared at the end:\n{text}")
        print("terminal: progress on a terminal, cleared at the end, none into a pipe: ok")

        # 4. A batch run at scale, read on a terminal: a 77-minute log of 8 hosts with some 2 000
        # transient profiles and one incident gives a text output of one or two screens, with
        # the escalation and the incident's key in the summary's first screen.
        log = os.path.join(tmp, "incident77.log")
        key = subprocess.run([sys.executable, "tests/incident_log.py", log], check=True,
                             capture_output=True, text=True).stdout.strip()
        rows = 50
        tmux("new-session", "-d", "-s", "batch", "-x", "200", "-y", str(rows), "bash", "-c",
             f"{shlex.quote(lockwatch)} {log}; echo EXIT=$?; sleep 60")
        wait_for("batch", r"EXIT=\d", timeout=120)
        text = tmux("capture-pane", "-p", "-J", "-S", "-", "-t", "batch").rstrip("\n")
        out = text[:text.rindex("EXIT=")].rstrip("\n").split("\n")
        if len(out) > 2 * rows:
            sys.exit(f"terminal: the batch run printed {len(out)} lines, more than two screens of {rows}")
        summary = out[[i for i, l in enumerate(out) if l.startswith("Summary")][0]:][:rows]
        first = "\n".join(summary)
        if "persistent profile=" + key not in first or "profile " + key + " symbol ETH-USD" not in first:
            sys.exit(f"terminal: the summary's first screen lacks the escalation or the incident's key:\n{first}")
        if "EXIT=1" not in text:
            sys.exit("terminal: the batch run over the incident did not exit 1")
        print(f"terminal: a 77-minute log of 8 hosts, {len(out)} lines of text, the incident first in the summary: ok")
finally:
    tmux("kill-server")
