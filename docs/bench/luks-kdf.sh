#!/usr/bin/env bash
# What a LUKS2 key slot's cost takes: cryptsetup's benchmark to one second (what Strata did before
# 2026-12-06) against the fixed cost Strata gives it (argon2id, 64 MiB, 4 passes, one lane), the
# format and two opens each, on a 64 MiB file (no device-mapper needed). Run it as root on the host,
# and in the VM: vm/run bash docs/bench/luks-kdf.sh
set -euo pipefail
dir=$(mktemp -d)
# cryptsetup makes /dev/mapper/control when it is missing, also on a kernel without device-mapper
# (this host's): such a node is taken away again afterwards.
control=/dev/mapper/control
[[ -e $control ]] && made_control= || made_control=1
trap 'rm -rf "$dir"; [[ -n $made_control ]] && rm -f "$control"' EXIT
img=$dir/luks.img key=$dir/key
truncate -s 64M "$img"
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$key"
timed() { # LABEL COMMAND...: the command's wall time in ms
  local t0; t0=$(date +%s%N)
  "${@:2}" > /dev/null
  echo "$1: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
}
format() {
  cryptsetup luksFormat --batch-mode --type luks2 --offset 32768 --pbkdf argon2id --pbkdf-memory 65536 \
    --pbkdf-parallel 1 "$@" --key-file "$key" "$img"
}
open() { cryptsetup open --test-passphrase --type luks2 --key-file "$key" "$img"; }
for cost in "--iter-time 1000" "--pbkdf-force-iterations 4"; do
  read -ra args <<<"$cost"
  timed "format $cost" format "${args[@]}"
  echo "  slot: $(cryptsetup luksDump "$img" | awk '/Time cost/ {t = $NF} /Memory:/ {m = $NF}
    END {print "argon2id, " t " passes over " m " KiB"}')"
  timed "  open" open
  timed "  open again" open
done
