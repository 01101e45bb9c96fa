#!/usr/bin/env bash
# Issue 16's restore target on the real cluster's two nodes: 1 GiB written on node 1, snapshotted
# through the strata-backup VolumeSnapshotClass (the manifests' file target, the host's
# $STRATA_CLUSTER_DIR/strata-backups, unencrypted), then a claim from that snapshot consumed by a
# pod bound to node 2, which node 2's plugin restores from the backup. The data: a strata-shared
# volume holding sixteen 64 MiB files of random bytes (incompressible). Timed from a cold page
# cache: node 2's own "restored … in N ms" log line, and, as the limit of this disk, `cat` of the
# backup's chunk files into one file on the same filesystem followed by `sync`. The restored files
# are checked against node 1's by SHA-256. Beside it, restic (Debian's package) backs up the same
# volume's files on node 1 into a repository on the same disk and restores them from a cold cache
# (restic always encrypts; Strata's target here does not). As root; takes the cluster down first and at the end
# (bin/cluster down), so never while a RealClusterTest runs. Prints one line per measurement.
set -euo pipefail
cd "$(dirname "$0")/../.."
command -v restic > /dev/null || apt-get install -y -q restic > /dev/null
state="${STRATA_CLUSTER_DIR:-/var/lib/strata-cluster}"
k() { bin/cluster kubectl "$@"; }
node2=strata-cluster-2
bin/cluster down > /dev/null 2>&1
trap 'bin/cluster down > /dev/null 2>&1' EXIT
bin/cluster up > /dev/null 2>&1
bin/cluster images > /dev/null 2>&1
bin/cluster install-strata manifests > /dev/null
bin/cluster add-node > /dev/null 2>&1
k -n strata-system rollout status ds/strata-node --timeout=300s > /dev/null
k -n strata-system rollout status deploy/strata-controller --timeout=300s > /dev/null
k create namespace bench > /dev/null

claim() { # NAME [SNAPSHOT]
  local source=""
  [[ -n "${2:-}" ]] && source="dataSource: {apiGroup: snapshot.storage.k8s.io, kind: VolumeSnapshot, name: $2}"
  k -n bench apply -f - > /dev/null <<EOF
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: $1}
spec: {storageClassName: strata-shared, accessModes: [ReadWriteOnce], resources: {requests: {storage: 2Gi}}, $source}
EOF
}
pod() { # NAME CLAIM NODE SCRIPT: runs to its end; prints its log
  k -n bench apply -f - > /dev/null <<EOF
apiVersion: v1
kind: Pod
metadata: {name: $1}
spec:
  restartPolicy: Never
  nodeSelector: {kubernetes.io/hostname: $3}
  tolerations: [{key: strata.test/second-node, operator: Exists, effect: NoSchedule}]
  containers:
  - {name: c, image: registry.k8s.io/e2e-test-images/busybox:1.37.0-1, command: [sh, -c, "$4"],
     volumeMounts: [{name: v, mountPath: /data}]}
  volumes: [{name: v, persistentVolumeClaim: {claimName: $2}}]
EOF
  k -n bench wait --for=jsonpath='{.status.phase}'=Succeeded "pod/$1" --timeout=600s > /dev/null
  k -n bench logs "$1"
}
sums='cd /data && sha256sum f* | sort'

claim big
pod writer big strata-cluster 'for i in $(seq 1 16); do dd if=/dev/urandom of=/data/f$i bs=1M count=64 2>/dev/null; done; sync' > /dev/null
before=$(pod sums-1 big strata-cluster "$sums")
t0=$(date +%s%N)
k -n bench apply -f - > /dev/null <<EOF
apiVersion: snapshot.storage.k8s.io/v1
kind: VolumeSnapshot
metadata: {name: big}
spec: {volumeSnapshotClassName: strata-backup, source: {persistentVolumeClaimName: big}}
EOF
k -n bench wait --for=jsonpath='{.status.readyToUse}'=true volumesnapshot/big --timeout=600s > /dev/null
echo "backup of 1 GiB to the file target, VolumeSnapshot created to readyToUse: $(( ($(date +%s%N) - t0) / 1000000 )) ms"

sync; echo 3 > /proc/sys/vm/drop_caches
claim moved big
after=$(pod sums-2 moved "$node2" "$sums")
[[ "$before" == "$after" ]] || { echo "restored files differ"; exit 1; }
plugin=$(k -n strata-system get pods -l app.kubernetes.io/name=strata-node --field-selector spec.nodeName=$node2 -o name | head -1)
k -n strata-system logs "$plugin" -c strata | grep -o 'restored from .* in [0-9]* ms: .*' | sed 's/^/node 2: /'
chunks=$(find "$state/strata-backups/chunks" -type f | wc -l)
bytes=$(find "$state/strata-backups/chunks" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(date +%s%N)
find "$state/strata-backups/chunks" -type f -exec cat {} + > "$state/limit.bin"; sync
echo "limit: cat of the $chunks chunk files ($bytes bytes) into one file, then sync: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
rm -f "$state/limit.bin"
echo "the restored files match node 1's (sha256)"

id=$(k get pv "$(k -n bench get pvc big -o jsonpath='{.spec.volumeName}')" -o jsonpath='{.spec.csi.volumeHandle}')
dir=$(find "$state/strata" -maxdepth 4 -type d -name "$id" | head -1)
export RESTIC_REPOSITORY="$state/restic" RESTIC_PASSWORD=bench
restic init -q
restic backup -q "$dir"
sync; echo 3 > /proc/sys/vm/drop_caches
t0=$(date +%s%N)
restic restore -q latest --target "$state/restic-out"; sync
echo "restic restore of the same files from a repository on the same disk, then sync: $(( ($(date +%s%N) - t0) / 1000000 )) ms"
rm -rf "$state/restic" "$state/restic-out"
