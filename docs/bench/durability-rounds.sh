#!/usr/bin/env bash
# The durability table of docs/benchmarks.md (issue 15): what the syncs cost. Three rounds,
# alternating, of: the jar before the durability work (BEFORE: a clone of main at 00b465c built with
# mvn package), this tree's jar, and the reference hostpath driver (HOSTPATH: built outside the
# repository). Each round runs `stratactl bench lifecycle --volumes 500 --concurrency 8` and, on
# Strata, snapshots a dir and an overlay volume holding 64 files of 1 MiB three times (the driver's
# own CreateSnapshot duration_ms, from its call log). As root; scratch under /var/tmp/bench-dur.
set -u
cd "$(dirname "$0")/../.."
before=${BEFORE:-/var/tmp/fp-before}
hostpath=${HOSTPATH:-/var/tmp/tools/hostpathplugin}
work=/var/tmp/bench-dur
ctl=bin/stratactl

start() { # REPO LABEL: a standalone driver of REPO's jar on a fresh directory
  local dir=$work/$2
  rm -rf "$dir" && mkdir -p "$dir"
  "$1/bin/strata" standalone --endpoint "unix://$dir/csi.sock" --data-dir "$dir/data" --node-id bench \
    > "$dir/driver.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [[ -S $dir/csi.sock ]] && break; sleep 0.1; done
  sleep 1
}

stop() {
  kill "$pid"; wait "$pid" 2>/dev/null
}

lifecycle() { # SOCKET LABEL
  echo "$2 $($ctl --endpoint "unix://$1" bench lifecycle --volumes 500 --concurrency 8 2>&1 | tr '\n' ' ')"
}

snapshots() { # LABEL ENGINE
  local dir=$work/$1 e=unix://$work/$1/csi.sock
  $ctl --endpoint "$e" volume create "src-$2" --size 512Mi --param engine="$2" > /dev/null
  mkdir -p "$dir/mnt"
  $ctl --endpoint "$e" mount "src-$2" "$dir/mnt/$2" > /dev/null
  for i in $(seq 64); do head -c 1048576 /dev/urandom > "$dir/mnt/$2/f$i"; done
  $ctl --endpoint "$e" umount "src-$2" "$dir/mnt/$2" > /dev/null
  for i in 1 2 3; do
    $ctl --endpoint "$e" snapshot create "src-$2" --name "snap-$2-$i" > /dev/null
  done
  echo "$1 $2 CreateSnapshot duration_ms: $(grep -o 'CreateSnapshot.*status=OK duration_ms=[0-9.]*' "$dir/driver.log" \
    | grep "snap-$2\|src-$2" | sed 's/.*duration_ms=//' | tr '\n' ' ')"
  # Leave nothing behind: an overlay volume keeps its loop filesystem mounted while it exists.
  $ctl --endpoint "$e" snapshot rm "snap-$2-1" "snap-$2-2" "snap-$2-3" > /dev/null
  $ctl --endpoint "$e" volume rm "src-$2" > /dev/null
}

mkdir -p "$work"
for round in 1 2 3; do
  uptime
  for side in before after; do
    repo=$before; [[ $side == after ]] && repo=.
    start "$repo" "$side-r$round"
    lifecycle "$work/$side-r$round/csi.sock" "$side-r$round"
    snapshots "$side-r$round" dir
    snapshots "$side-r$round" overlay
    stop
  done
  rm -rf "$work/hp" && mkdir -p "$work/hp/state"
  "$hostpath" --endpoint="unix://$work/hp/csi.sock" --nodeid=bench --statedir="$work/hp/state" --v=1 \
    > "$work/hp/driver.log" 2>&1 &
  pid=$!
  for _ in $(seq 300); do [[ -S $work/hp/csi.sock ]] && break; sleep 0.1; done
  lifecycle "$work/hp/csi.sock" "hostpath-r$round"
  stop
done
uptime
