#!/usr/bin/env bash
# What per-volume I/O limits hold (issue 18), on bin/cluster's real cluster with Strata installed:
#   bin/cluster up && bin/cluster install-strata manifests && docs/bench/io-limits.sh
# Figures go to stdout and e2e/target/bench-io-limits.txt. fio runs in pods (the image bin/cluster
# builds from this host's fio), on dir volumes (loop-backed ext4, the host having no quotas), with
# direct I/O for RUNTIME seconds per job: each limited class against its limit, an unlimited one
# alone, and the unlimited one beside a limited pod writing at the same time.
set -euo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
out=$repo/e2e/target/bench-io-limits.txt; mkdir -p "$(dirname "$out")"; : > "$out"
RUNTIME=${RUNTIME:-15}
bin=$("$repo/bin/cluster" bin); export KUBECONFIG=$("$repo/bin/cluster" kubeconfig)
k() { "$bin/kubectl" "$@"; }
ns=strata-bench
k create namespace $ns --dry-run=client -o yaml | k apply -f - >/dev/null
params() { # CLASS -> its limits as StorageClass parameters
  case $1 in
    bps8) echo ", writeBytesPerSecond: 8Mi, readBytesPerSecond: 8Mi" ;;
    bps32) echo ", writeBytesPerSecond: 32Mi, readBytesPerSecond: 32Mi" ;;
    iops200) echo ', writeIOPS: "200", readIOPS: "200"' ;;
  esac
}
for c in unlimited bps8 bps32 iops200; do
  k apply -f - >/dev/null <<YAML
apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: strata-bench-$c}
provisioner: strata.csi.dev
volumeBindingMode: WaitForFirstConsumer
reclaimPolicy: Delete
parameters: {engine: dir$(params $c)}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $c, namespace: $ns}
spec:
  storageClassName: strata-bench-$c
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 512Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: fio-$c, namespace: $ns}
spec:
  terminationGracePeriodSeconds: 0
  containers:
    - {name: c, image: strata.test/fio:debian, imagePullPolicy: IfNotPresent, command: [sleep, "3600"],
       volumeMounts: [{name: v, mountPath: /data}]}
  volumes: [{name: v, persistentVolumeClaim: {claimName: $c}}]
YAML
done
k -n $ns wait --for=condition=Ready pod --all --timeout=5m >/dev/null
fio_in() { # POD RW BS -> "MiB/s IOPS"
  k -n $ns exec "fio-$1" -- fio --name=j --filename=/data/fio --size=256M --rw="$2" --bs="$3" --direct=1 \
      --ioengine=psync --time_based --runtime="$RUNTIME" --output-format=terse |
    awk -F';' '{ if ($7 > 0) printf "%.2f MiB/s %d IOPS\n", $7/1024, $8; else printf "%.2f MiB/s %d IOPS\n", $48/1024, $49 }'
}
say() { echo "$*" | tee -a "$out"; }
say "fio, direct I/O, $RUNTIME s a job, $(date -u +%FT%TZ), $(git -C "$repo" rev-parse --short HEAD)"
for c in unlimited bps8 bps32; do
  for rw in write read; do say "$c $rw 1M: $(fio_in $c $rw 1M)"; done
done
for c in unlimited iops200; do
  for rw in randwrite randread; do say "$c $rw 4k: $(fio_in $c $rw 4k)"; done
done
fio_in bps8 write 1M > "$out.beside" &
say "unlimited write 1M beside bps8 writing: $(fio_in unlimited write 1M)"
wait; say "bps8 write 1M beside unlimited writing: $(cat "$out.beside")"; rm -f "$out.beside"
k delete namespace $ns --wait=true >/dev/null
for c in unlimited bps8 bps32 iops200; do k delete storageclass strata-bench-$c >/dev/null; done
