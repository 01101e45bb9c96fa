# Sourced by the benchmark scripts that restore from S3 on "another host". With $work and $port set
# (and BUCKETS, the buckets to make besides "bench"): empties $work, starts S3Proxy (testkit's
# S3Server, run as a process, its objects in $work/s3, logging warnings only: at DEBUG it logs every
# request, which slows it) on $port, and two standalone drivers, a and b, each with its own data
# directory ($work/data-a, $work/data-b), socket and log; all three are killed on exit. Sets ctl,
# endpoint, and restic's and the AWS tools' credentials. BENCH_MVN_ARGS passes options to the mvn
# that builds the server's classpath. S3_TLS=1: the server speaks https, with a certificate made here
# that the drivers (through STRATA_JAVA_OPTS), curl and restic trust.
ctl=bin/stratactl
rm -rf "$work" && mkdir -p "$work/s3"
command -v restic > /dev/null || apt-get install -y -q restic > /dev/null
mvn -B -q -o ${BENCH_MVN_ARGS:-} -pl testkit dependency:build-classpath -Dmdep.outputFile="$work/cp.txt" > /dev/null
printf '<configuration><root level="WARN"/></configuration>\n' > "$work/logback.xml"
scheme=http tls=()
if [[ ${S3_TLS:-0} == 1 ]]; then
  scheme=https
  keytool -genkeypair -alias s3 -keyalg EC -groupname secp256r1 -dname CN=localhost -ext san=ip:127.0.0.1 \
    -validity 2 -storetype PKCS12 -keystore "$work/tls.p12" -storepass bench-tls 2> /dev/null
  keytool -exportcert -rfc -alias s3 -keystore "$work/tls.p12" -storepass bench-tls > "$work/tls.pem" 2> /dev/null
  keytool -importcert -noprompt -alias s3 -file "$work/tls.pem" -storetype PKCS12 -keystore "$work/trust.p12" \
    -storepass bench-tls 2> /dev/null
  trust="-Djavax.net.ssl.trustStore=$work/trust.p12 -Djavax.net.ssl.trustStorePassword=bench-tls"
  trust+=" -Djavax.net.ssl.trustStoreType=PKCS12"
  tls=(-Ds3server.keystore="$work/tls.p12" -Ds3server.keystore.password=bench-tls $trust) # it makes the buckets
  export STRATA_JAVA_OPTS="${STRATA_JAVA_OPTS:-} $trust"
  export CURL_CA_BUNDLE="$work/tls.pem" SSL_CERT_FILE="$work/tls.pem" # SSL_CERT_FILE: restic (Go)
fi
java -Dlogback.configurationFile="$work/logback.xml" "${tls[@]}" -cp "testkit/target/classes:$(cat "$work/cp.txt")" \
  dev.strata.testkit.S3Server "$work/s3" "$port" bench ${BUCKETS:-} > "$work/s3.log" 2>&1 &
s3=$!
export AWS_ACCESS_KEY_ID=strata-test-access AWS_SECRET_ACCESS_KEY=strata-test-secret-0123456789
export RESTIC_PASSWORD='bench key' RESTIC_CACHE_DIR="$work/restic-cache"
endpoint=$scheme://127.0.0.1:$port
for _ in $(seq 300); do grep -qs 's3 server at' "$work/s3.log" && break; sleep 0.1; done
start_driver() { # NAME
  bin/strata standalone --endpoint "unix://$work/$1.sock" --data-dir "$work/data-$1" --node-id "bench-$1" \
    > "$work/driver-$1.log" 2>&1 &
  echo $!
  for _ in $(seq 300); do [[ -S $work/$1.sock ]] && break; sleep 0.1; done
}
a=$(start_driver a)
b=$(start_driver b)
# the drivers are not this shell's children (started in $(...)): wait for them by pid
trap 'kill $a $b $s3 2>/dev/null; for p in $a $b $s3; do tail --pid=$p -f /dev/null; done' EXIT
. docs/bench/cold-timed.sh
# CPU time (user and system, in ms) a process has used so far: on two cores the S3 server and the
# restoring driver share them, so each one's share says where a restore's time goes.
cpu_ms() { awk -v hz="$(getconf CLK_TCK)" '{ print int(($14 + $15) * 1000 / hz) }' "/proc/$1/stat"; }
# restore_on DRIVER VOLUME: stratactl's restore of backup $id from s3://bench/strata on driver a or b.
restore_on() {
  $ctl --endpoint "unix://$work/$1.sock" --timeout 1800 volume create "$2" --size 2Gi \
    --from-backup "s3://bench/strata?endpoint=$endpoint#$id"
}
# thread_cpu PID OUT: until OUT.stop exists, reads every thread's CPU time every 50 ms, and then
# writes into OUT the CPU each kind of thread used meanwhile (threads that ended in between count:
# a restore's readers end with it), e.g. "backup-restore: 1160 ms", "C1 CompilerThre: 340 ms".
thread_cpu() {
  local hz; hz=$(getconf CLK_TCK)
  while [[ ! -e $2.stop ]]; do
    for t in /proc/$1/task/*; do read -r line < "$t/stat" 2>/dev/null && echo "${t##*/} $line"; done
    sleep 0.05
  done | awk -v hz="$hz" '{
      name = substr($0, index($0, "(") + 1); name = substr(name, 1, index(name, ")") - 1)
      sub(/-[0-9]*(-[0-9]+)?$/, "", name) # the threads of a pool count as one kind (comm keeps 15 characters)
      split(substr($0, index($0, ")") + 2), f, " ")
      cpu = int((f[12] + f[13]) * 1000 / hz)
      if (!($1 in first)) first[$1] = cpu
      last[$1] = cpu; kind[$1] = name
    }
    END { for (t in last) used[kind[t]] += last[t] - first[t]
          for (k in used) if (used[k] >= 10) print k ": " used[k] " ms" }' | sort -t: -k2 -nr > "$2"
}
# restore_strata VOLUME LABEL: restores backup $id on driver b as VOLUME (restore_on), from a cold
# page cache, ending with sync; prints stratactl's wall time, the driver's own and the CPU time the
# S3 server and driver b used; with THREAD_CPU=1, also driver b's CPU by kind of thread (thread_cpu).
restore_strata() {
  local s3_cpu b_cpu sampler=; s3_cpu=$(cpu_ms "$s3"); b_cpu=$(cpu_ms "$b")
  if [[ ${THREAD_CPU:-0} == 1 ]]; then
    rm -f "$work/threads" "$work/threads.stop"
    thread_cpu "$b" "$work/threads" & sampler=$!
  fi
  timed "$2 (stratactl volume create --from-backup, wall)" restore_on b "$1"
  echo "$2 (driver's own time): $(grep "restored from" "$work/driver-b.log" | tail -1 \
    | sed 's/.* in \([0-9]* ms\).*/\1/')"
  echo "$2, CPU: S3 server $(( $(cpu_ms "$s3") - s3_cpu )) ms, driver $(( $(cpu_ms "$b") - b_cpu )) ms"
  if [[ -n $sampler ]]; then
    touch "$work/threads.stop"; wait "$sampler"
    echo "$2, driver's CPU by thread: $(paste -sd, "$work/threads" | sed 's/,/, /g')"
  fi
}
# Restores backup $id on driver b as the volume "copy" (restore_strata), mounted afterwards at
# $work/copy for the caller's checks, and restic's latest snapshot from s3://bench/restic into
# $work/restic-restore, from a cold page cache, ending with sync, with the CPU time the S3 server used.
restore_both() {
  restore_strata copy "strata restore"
  local s3_cpu; s3_cpu=$(cpu_ms "$s3")
  timed "restic restore" restic restore --repo "s3:$endpoint/bench/restic" --target "$work/restic-restore" latest
  echo "restic restore, CPU: S3 server $(( $(cpu_ms "$s3") - s3_cpu )) ms"
  $ctl --endpoint "unix://$work/b.sock" mount copy "$work/copy" > /dev/null
}
