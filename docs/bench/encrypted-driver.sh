# Sourced by the benchmark scripts that set Strata beside restic: with $work set (emptied here),
# writes one passphrase for both ($work/key, RESTIC_PASSWORD), starts a standalone driver on
# $work/csi.sock with its data in $work/data and its log in $work/driver.log (killed on exit), and
# sets ctl (stratactl), e (its endpoint) and driver (its pid).
ctl=bin/stratactl
rm -rf "$work" && mkdir -p "$work"
printf 'bench key' > "$work/key"
export RESTIC_PASSWORD='bench key' RESTIC_CACHE_DIR="$work/restic-cache"
bin/strata standalone --endpoint "unix://$work/csi.sock" --data-dir "$work/data" --node-id bench \
  --backup-key-file "$work/key" > "$work/driver.log" 2>&1 &
driver=$!
trap 'kill $driver 2>/dev/null; wait $driver 2>/dev/null || true' EXIT
for _ in $(seq 300); do [[ -S $work/csi.sock ]] && break; sleep 0.1; done
e=unix://$work/csi.sock
