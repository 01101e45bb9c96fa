#!/usr/bin/env bash
# A restore of many small files from S3, beside restic (Debian's package) restoring the same tree
# from the same server: the case where a restore that fetched each packed chunk with its own ranged
# GET paid one request per file. The server is S3Proxy (testkit's S3Server, run as a process), its
# objects on the same disk. The data: a dir volume of BENCH_FILES (default 20,000) files of 1 to
# 8 KiB of random bytes in directories of 500, backed up unencrypted by one standalone driver, then
# restored by a second one with its own data directory (another host's driver); restic backs up the
# same snapshot tree and restores it. Each timed step starts from a cold page cache and ends with
# sync, and the two restores are compared with the snapshot file by file.
# As root; scratch under /var/tmp/bench-restore-small. STRATA_JAR runs both drivers from another
# jar (an older build, side by side); BENCH_MVN_ARGS passes options to mvn (the S3 server's
# classpath). Prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=/var/tmp/bench-restore-small
port=9198
files=${BENCH_FILES:-20000}
. docs/bench/s3-two-drivers.sh
echo "jar: ${STRATA_JAR:-driver/target/strata.jar}"
$ctl --endpoint "unix://$work/a.sock" volume create data --size 2Gi > /dev/null
$ctl --endpoint "unix://$work/a.sock" mount data "$work/mnt" > /dev/null
python3 - "$work/mnt" "$files" <<'PY'
import os, random, sys
root, n = sys.argv[1], int(sys.argv[2])
rnd = random.Random(16)
for i in range(n):
    d = os.path.join(root, "d%03d" % (i // 500))
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "f%06d" % i), "wb") as f:
        f.write(rnd.randbytes(rnd.randint(1024, 8192)))
PY
sync
$ctl --endpoint "unix://$work/a.sock" umount data "$work/mnt" > /dev/null
$ctl --endpoint "unix://$work/a.sock" --timeout 1800 snapshot create data --name one \
  --to "s3://bench/strata?endpoint=$endpoint" > "$work/one.out"
id=$(head -1 "$work/one.out")
tree="$work/data-a/engines/dir/snapshots/$id"
echo "data: $(du -sb "$tree" | cut -f1) bytes in $(find "$tree" -type f | wc -l) files"
echo "strata backup: $(grep "snapshot $id stored" "$work/driver-a.log" | sed 's/.*stored in [^ ]* in //')"
restic init --repo "s3:$endpoint/bench/restic" > /dev/null
restic backup --repo "s3:$endpoint/bench/restic" --host bench "$tree" > /dev/null

timed "limit: cp of the tree (disk alone)" cp -a "$tree" "$work/cp-copy"
restore_both
same() { # LABEL DIR: DIR holds what the snapshot holds, file for file (a sized volume adds lost+found)
  if diff -r -x lost+found "$tree" "$2" > "$work/diff.out" 2>&1; then
    echo "$1's restore is file for file the snapshot"
  else
    echo "$1's restore differs from the snapshot:"; head -n 5 "$work/diff.out"
  fi
}
same strata "$work/copy"
$ctl --endpoint "unix://$work/b.sock" umount copy "$work/copy" > /dev/null
same restic "$work/restic-restore$tree"
