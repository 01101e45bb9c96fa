#!/usr/bin/env python3
"""Footprint of a CSI driver on this host (issue 17), as root:
start to serving its socket, resident memory idle and during `stratactl bench lifecycle`, and the
wall time of `stratactl volume ls` against it.

  docs/bench/footprint.py strata REPO [LABEL]         # REPO/bin/strata standalone, REPO/bin/stratactl
  docs/bench/footprint.py hostpath BINARY REPO [LABEL] # the reference driver; stratactl from REPO
  FOOTPRINT_ARGS='--metrics-address 127.0.0.1:9820' docs/bench/footprint.py strata REPO  # more driver options

Prints one line of key=value figures. Start to serving: from the spawn of the process to the first
successful connect(2) on its Unix socket, polled every 2 ms. RSS: VmRSS of the process, sampled every
50 ms during the bench (the maximum is reported), and 10 s after start and 12 s after the bench (idle).
"""
import os, shutil, signal, socket, statistics, subprocess, sys, threading, time

def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0

def wait_socket(path, proc, timeout=60):
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if proc.poll() is not None:
            raise SystemExit(f"driver exited with {proc.returncode}")
        if os.path.exists(path):
            s = socket.socket(socket.AF_UNIX)
            try:
                s.connect(path)
                return
            except OSError:
                pass
            finally:
                s.close()
        time.sleep(0.002)
    raise SystemExit("socket never answered")

def main():
    kind = sys.argv[1]
    if kind == "strata":
        repo, label = sys.argv[2], (sys.argv[3] if len(sys.argv) > 3 else "strata")
    else:
        binary, repo, label = sys.argv[2], sys.argv[3], (sys.argv[4] if len(sys.argv) > 4 else "hostpath")
    work = f"/var/tmp/footprint/{label}"
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    sock = f"{work}/csi.sock"
    if kind == "strata":
        cmd = [f"{repo}/bin/strata", "standalone", "--endpoint", f"unix://{sock}", "--data-dir", f"{work}/data"]
        cmd += os.environ.get("FOOTPRINT_ARGS", "").split()  # e.g. --metrics-address 127.0.0.1:9820
    else:
        cmd = [binary, f"--endpoint=unix://{sock}", "--nodeid=vm", f"--statedir={work}/state", "--v=1"]
    log = open(f"{work}/driver.log", "w")
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    wait_socket(sock, proc)
    start_ms = (time.monotonic() - t0) * 1000
    time.sleep(10)
    idle_start = rss_kib(proc.pid)
    ctl = [f"{repo}/bin/stratactl", "--endpoint", f"unix://{sock}"]
    ls = []
    for _ in range(5):
        t = time.monotonic()
        subprocess.run(ctl + ["volume", "ls"], check=True, stdout=subprocess.DEVNULL)
        ls.append((time.monotonic() - t) * 1000)
    peak = [0]
    done = threading.Event()
    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kib(proc.pid))
            time.sleep(0.05)
    sampler = threading.Thread(target=sample)
    sampler.start()
    bench = subprocess.run(ctl + ["bench", "lifecycle", "--volumes", "500", "--concurrency", "8"],
                           capture_output=True, text=True)
    done.set()
    sampler.join()
    time.sleep(12)
    idle_after = rss_kib(proc.pid)
    proc.send_signal(signal.SIGTERM)
    proc.wait(60)
    summary = [l for l in bench.stdout.splitlines() if l.startswith("lifecycle")]
    print(f"{label}: start_to_socket_ms={start_ms:.0f} idle_rss_kib={idle_start} bench_peak_rss_kib={peak[0]} "
          f"idle_rss_after_bench_kib={idle_after} volume_ls_ms(median of 5)={statistics.median(ls):.0f} "
          f"volume_ls_ms(all)={'/'.join(f'{x:.0f}' for x in ls)} bench: {' '.join(summary) or bench.stderr[-300:]}")

main()
