#!/usr/bin/env python3
"""ringwatchd catching up on a backlog (bench/streams.sh, bench/http.sh).

    catchup.py RWD CONF LISTEN LOG NAME=GTID... [-- OUT CMD [ARG...]]

Starts RWD -c CONF (stderr to LOG), polls http://LISTEN/v1/status every
50 ms until every master NAME's position.gtid equals GTID (entries in any
order), then prints "SECONDS VMHWM_KIB CPU_SECONDS LOOP_CPU_SECONDS
BYTES_TOTAL..." (SECONDS from its start; LOOP: the event loop's thread
alone; BYTES_TOTAL of each NAME in turn) and stops it.  With CMD: CMD is
started (stdout to OUT) as soon as ringwatchd first answers, and sent
SIGINT and waited for once ringwatchd has caught up, so it runs for the
catch-up (bench/http.sh: the HTTP load).  Exits 1 when ringwatchd has not
caught up within 300 s.
"""
import json, os, signal, subprocess, sys, time, urllib.request

args = sys.argv[1:]
during = None
if "--" in args:
    during = args[args.index("--") + 1:]
    args = args[:args.index("--")]
rwd, conf, listen, log = args[0:4]
norm = lambda g: ",".join(sorted((g or "").split(",")))
want = {k: norm(v) for k, v in (a.split("=", 1) for a in args[4:])}
url = "http://%s/v1/status" % listen


def proc_field(pid, key):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])


def cpu(stat):  # utime + stime of a /proc stat file, in seconds
    with open(stat) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def stop(q):
    q.send_signal(signal.SIGINT)
    try:
        q.wait(10)
    except subprocess.TimeoutExpired:
        q.kill()


t0 = time.monotonic()
p = subprocess.Popen([rwd, "-c", conf], stderr=open(log, "w"))
load = None
done, deadline = None, t0 + 300
while time.monotonic() < deadline and p.poll() is None:
    try:
        st = json.load(urllib.request.urlopen(url, timeout=2))
        if during and load is None:
            load = subprocess.Popen(during[1:], stdout=open(during[0], "w"))
        got = {m["name"]: m for m in st["masters"]}
        if all(k in got and norm(got[k]["position"]["gtid"]) == v for k, v in want.items()):
            done = time.monotonic() - t0
            break
    except (OSError, ValueError, KeyError):
        pass
    time.sleep(0.05)
if load is not None:
    stop(load)
if done is None:
    sys.stderr.write("ringwatchd did not catch up (see %s)\n" % log)
    p.kill()
    sys.exit(1)
hwm, c = proc_field(p.pid, "VmHWM"), cpu("/proc/%d/stat" % p.pid)
loop = cpu("/proc/%d/task/%d/stat" % (p.pid, p.pid))  # the event loop's thread
print("%.3f %d %.2f %.2f %s" % (done, hwm, c, loop, " ".join(str(got[k]["bytes_total"]) for k in want)))
p.send_signal(signal.SIGTERM)
try:
    p.wait(10)
except subprocess.TimeoutExpired:
    p.kill()
