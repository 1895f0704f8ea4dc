#!/usr/bin/env python3
"""bench/ownstat.py CMD...: run CMD and report the CPU of that one process (all its threads,
not its children), read from /proc/PID/stat while it is a zombie (waitid WNOWAIT: exited, not yet
reaped), and its peak RSS (VmHWM, sampled every 10 ms). Prints to stderr:
  ownstat wall=<s> user=<s> sys=<s> hwm_kib=<n> rc=<n>
"""
import os, subprocess, sys, time

tck = os.sysconf("SC_CLK_TCK")
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:])
hwm = 0
while True:
    info = os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT | os.WNOHANG)
    if info is not None:
        break
    try:
        with open(f"/proc/{p.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    hwm = max(hwm, int(line.split()[1]))
    except OSError:
        pass
    time.sleep(0.01)
with open(f"/proc/{p.pid}/stat") as f:
    fields = f.read().rsplit(")", 1)[1].split()
utime, stime = int(fields[11]) / tck, int(fields[12]) / tck
rc = p.wait()
print(f"ownstat wall={time.monotonic() - t0:.3f} user={utime:.2f} sys={stime:.2f} hwm_kib={hwm} rc={rc}", file=sys.stderr)
sys.exit(rc)
