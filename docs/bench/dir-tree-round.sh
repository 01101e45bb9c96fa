# Sourced by backup-vs-restic.sh and first-backup-vs-restic.sh: with $work set, starts the driver
# (encrypted-driver.sh), fills a 10 GiB dir volume with backup-tree.py's tree (100,000 small files
# of 1-8 KiB and four of 64 MiB), makes the restic repository (format 2: compressed) and defines
# round NAME: the volume's snapshot NAME to the encrypted file:// target (stratactl's wall time, and
# the upload's own from the driver's log), then restic on the same snapshot tree, each line of
# figures printed; the volume is mounted again at $work/mnt after.
. docs/bench/encrypted-driver.sh
$ctl --endpoint "$e" volume create data --size 10Gi > /dev/null
$ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
# a run that fails half way (a tool missing) unmounts the volume, which detaches its loop device
trap 'umount "$work/view" 2> /dev/null; $ctl --endpoint "$e" umount data "$work/mnt" > /dev/null 2>&1
  kill $driver 2> /dev/null; wait $driver 2> /dev/null || true' EXIT
python3 docs/bench/backup-tree.py "$work/mnt"
sync
echo "data: $(du -sb "$work/mnt" | cut -f1) bytes in $(find "$work/mnt" -type f | wc -l) files"
restic init --repo "$work/restic" --repository-version 2 > /dev/null
mkdir -p "$work/view"

round() { # NAME
  $ctl --endpoint "$e" umount data "$work/mnt" > /dev/null
  local start; start=$(date +%s%N)
  $ctl --endpoint "$e" snapshot create data --name "$1" --to "file://$work/strata" > "$work/$1.out"
  echo "strata $1: stratactl snapshot create --to, wall (the cut, the upload, polls 200 ms apart): $(( ($(date +%s%N) - start) / 1000000 )) ms"
  local id; id=$(head -1 "$work/$1.out")
  echo "strata $1: $(grep "snapshot $id stored" "$work/driver.log" | sed 's/.*stored in [^ ]* in //')"
  echo "strata $1: target now $(du -sb "$work/strata" | cut -f1) bytes"
  # restic reads the same snapshot tree, at one path every round so that it finds its parent, and
  # with the same change test as Strata's (size and mtime: a snapshot is a copy, with new inodes)
  mount --bind "$work/data/engines/dir/snapshots/$id" "$work/view"
  start=$(date +%s%N)
  restic backup --repo "$work/restic" --host bench --tag "$1" --ignore-inode --ignore-ctime "$work/view" \
    > "$work/restic-$1.out"
  echo "restic $1: $(( ($(date +%s%N) - start) / 1000000 )) ms: $(grep -E 'Added to the repo|processed' "$work/restic-$1.out" | tr '\n' ' ')"
  echo "restic $1: repository now $(du -sb "$work/restic" | cut -f1) bytes"
  umount "$work/view"
  $ctl --endpoint "$e" mount data "$work/mnt" > /dev/null
}
