#!/usr/bin/env bash
# Issue 16's restore target: 1 GiB restored from an S3 target on "another host" (a second driver
# with its own data directory), against what the disk and the S3 server on this machine can move
# together, and beside restic (Debian's package) restoring the same data from the same server.
# The server is S3Proxy (testkit's S3Server, run as a process), its objects on the same disk.
# The data: one 1 GiB volume of the dir engine holding sixteen 64 MiB files of random bytes
# (incompressible, so nothing is saved by zstd), backed up unencrypted (the key's cost is measured
# in backup-vs-restic.sh). Each timed step starts from a cold page cache and ends with sync:
#   - the limit: curl (SigV4) GETs the same 1 GiB, uploaded before as sixteen objects, into files
#     on the same disk, one at a time and four at a time; and `cp` of the tree on the same disk
#     (the disk alone);
#   - Strata: stratactl volume create --from-backup on the second driver (wall), and the driver's
#     own "restored in" time; then the same restore again on that driver, its JVM warm;
#   - restic: restore of its snapshot of the same tree, from a repository in the same server;
#   - the CPU time the S3 server and the restoring driver used in each restore (two cores hold both).
# Before all of them the first driver restores the same backup once, to warm the S3 server up
# (SERVER_WARMUP=0 skips that).
# As root; scratch under /var/tmp/bench-restore. BENCH_MVN_ARGS passes options to mvn (for the
# classpath of the S3 server), STRATA_JAVA_OPTS to both drivers (-Dstrata.backup.crypto=jdk: the
# JDK's own hash and cipher instead of NSS), S3_TLS=1 makes the server speak https, THREAD_CPU=1
# adds where driver b's CPU went in each restore, by kind of thread (s3-two-drivers.sh), PRE_RESTORE
# has driver b restore a small backup first (below). Prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-restore
port=9199
BUCKETS=raw . docs/bench/s3-two-drivers.sh
$ctl --endpoint "unix://$work/a.sock" volume create data --size 2Gi > /dev/null
$ctl --endpoint "unix://$work/a.sock" mount data "$work/mnt" > /dev/null
for i in $(seq -w 0 15); do head -c 64M /dev/urandom > "$work/mnt/$i.bin"; done
sync
$ctl --endpoint "unix://$work/a.sock" umount data "$work/mnt" > /dev/null
$ctl --endpoint "unix://$work/a.sock" snapshot create data --name one --to "s3://bench/strata?endpoint=$endpoint" \
  > "$work/one.out"
id=$(head -1 "$work/one.out")
tree="$work/data-a/engines/dir/snapshots/$id"
echo "data: $(du -sb "$tree" | cut -f1) bytes in $(find "$tree" -type f | wc -l) files"
echo "strata's crypto: $(grep -o 'backups hash and encrypt with .*' "$work/driver-a.log" | head -1)"
echo "strata backup: $(grep "snapshot $id stored" "$work/driver-a.log" | sed 's/.*stored in [^ ]* in //')"
restic init --repo "s3:$endpoint/bench/restic" > /dev/null
restic backup --repo "s3:$endpoint/bench/restic" --host bench "$tree" > /dev/null
# curl 7.88 signs no payload hash of its own: S3 wants one, and takes UNSIGNED-PAYLOAD
sigv4=(--silent --show-error --fail --aws-sigv4 "aws:amz:us-east-1:s3" --user "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY"
  -H "x-amz-content-sha256: UNSIGNED-PAYLOAD")
for f in "$tree"/*.bin; do curl "${sigv4[@]}" -T "$f" "$endpoint/raw/$(basename "$f")"; done

get_all() {
  mkdir -p "$work/curl"
  for f in "$tree"/*.bin; do curl "${sigv4[@]}" -o "$work/curl/$(basename "$f")" "$endpoint/raw/$(basename "$f")"; done
}
# Strata's restore reads ahead on several threads, so one stream is not the limit: four at a time too
get_four_at_a_time() {
  mkdir -p "$work/curl4"
  local pids=() # waited for by pid: a bare wait would wait for the S3 server too
  for f in "$tree"/*.bin; do
    curl "${sigv4[@]}" -o "$work/curl4/$(basename "$f")" "$endpoint/raw/$(basename "$f")" &
    pids+=($!)
    if (( ${#pids[@]} == 4 )); then wait "${pids[@]}"; pids=(); fi
  done
}
# A production S3 server runs for days; this one is a JVM this script has just started, and a cold
# server spends a second or two more of the two cores' CPU on its first ranged reads. So driver a
# restores the backup once first, not a figure: the limit and the restores below meet a warm server,
# and driver b (the one measured) is still cold. SERVER_WARMUP=0 skips it (the figures before
# 2026-12-06, evening).
if [[ ${SERVER_WARMUP:-1} == 1 ]]; then
  timed "server warm-up: the same restore on driver a (not a figure)" restore_on a warmup
  $ctl --endpoint "unix://$work/a.sock" volume rm warmup > /dev/null
fi
timed "limit: curl GET of the 16 objects into files (S3 server + disk)" get_all
timed "limit: curl GET of the 16 objects, four at a time" get_four_at_a_time
timed "limit: cp of the tree (disk alone)" cp -a "$tree" "$work/cp-copy"
# PRE_RESTORE=s3 or file: driver b first restores a small backup (one 8 MiB file) from the same S3
# target or from a file:// directory, as a warm-up at start-up would, before the measured restore.
if [[ -n ${PRE_RESTORE:-} ]]; then
  $ctl --endpoint "unix://$work/a.sock" volume create small --size 64Mi > /dev/null
  $ctl --endpoint "unix://$work/a.sock" mount small "$work/mnt" > /dev/null
  head -c 8M /dev/urandom > "$work/mnt/small.bin"
  $ctl --endpoint "unix://$work/a.sock" umount small "$work/mnt" > /dev/null
  small_target="s3://bench/strata?endpoint=$endpoint"
  [[ $PRE_RESTORE == s3 ]] || small_target="file://$work/small-target"
  small_id=$($ctl --endpoint "unix://$work/a.sock" snapshot create small --name small --to "$small_target" | head -1)
  timed "small restore on driver b first, from $PRE_RESTORE (not a figure)" $ctl --endpoint "unix://$work/b.sock" \
    volume create small-copy --size 64Mi --from-backup "$small_target#$small_id"
fi
restore_both
# The same restore again on the same driver: its JVM has now run the S3 client and the restore's
# code, and the S3 server's has served ranged reads (the first restore pays for both warming up).
restore_strata again "strata restore again, same driver (warm JVMs)"
for d in "$work/copy" "$work/restic-restore" "$work/curl" "$work/curl4"; do
  echo "restored: $(du -sb "$d" | cut -f1) bytes in $d"
done
digest() { find "$1" -name '*.bin' -printf '%f %p\n' | sort | cut -d' ' -f2 | xargs cat | sha256sum; }
[[ $(digest "$tree") == $(digest "$work/copy") ]] \
  && echo "strata's restore is byte for byte the snapshot"
$ctl --endpoint "unix://$work/b.sock" umount copy "$work/copy" > /dev/null
# The most memory each driver held (VmHWM, resident): a backed up and restored once, b restored twice
hwm() { awk '/^VmHWM/ { print int($2 / 1024) " MiB" }' "/proc/$1/status"; }
echo "peak resident: driver a (the backup, a restore) $(hwm "$a"), driver b (two restores) $(hwm "$b")"
