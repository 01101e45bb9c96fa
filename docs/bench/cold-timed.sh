# Sourced by the benchmark scripts. timed LABEL COMMAND...: runs COMMAND (its output dropped) from a
# cold page cache, syncs what it wrote, and prints "LABEL: N ms", the wall time of both.
timed() {
  sync; echo 3 > /proc/sys/vm/drop_caches
  local start; start=$(date +%s%N)
  "${@:2}" > /dev/null
  sync
  echo "$1: $(( ($(date +%s%N) - start) / 1000000 )) ms"
}
