#!/usr/bin/env bash
# The footprint table of docs/benchmarks.md: two rounds, alternating, of the jar before (BEFORE: a
# clone of main built with mvn package), this tree's jar without and with metrics, and the reference
# hostpath driver (HOSTPATH: built outside the repository). As root.
set -u
cd "$(dirname "$0")/../.."
before=${BEFORE:-/var/tmp/fp-before}
hostpath=${HOSTPATH:-/var/tmp/tools/hostpathplugin}
for round in 1 2; do
  uptime
  python3 docs/bench/footprint.py strata "$before" "before-r$round" 2>&1 | tail -1
  python3 docs/bench/footprint.py strata . "after-r$round" 2>&1 | tail -1
  FOOTPRINT_ARGS="--metrics-address 127.0.0.1:19820" python3 docs/bench/footprint.py strata . \
    "after-metrics-r$round" 2>&1 | tail -1
  python3 docs/bench/footprint.py hostpath "$hostpath" . "hostpath-r$round" 2>&1 | tail -1
done
uptime
