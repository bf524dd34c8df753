#!/usr/bin/env bash
# Real test servers for SecAbly, run as plain JVM processes (no Docker), bound to 127.0.0.1 only:
#   kafka  Apache Kafka 4.x broker, KRaft mode, single node (broker+controller), from Maven Central
#   mongo  mongo-java-server (in-memory backend, oplog on, so change streams work), from Maven Central
#
# Usage: scripts/servers/servers.sh <command> [kafka|mongo|all]
#   fetch            download / compile into the cache (idempotent; needs mvn only when not cached)
#   start            start in the background and wait until ready (no-op for one already running)
#   stop             SIGTERM by pid file, wait for exit (SIGKILL after SECABLY_SERVERS_STOP_TIMEOUT)
#   restart          stop + start, keeping the data dir (Kafka topics/offsets survive)
#   kill             SIGKILL by pid file (crash simulation for fault tests), then waits for exit
#   status           one line per server; exit 0 only if all asked for are running and accept TCP
#   env              print `export KAFKA_BROKERS=...` and `export MONGODB_URL=...`
#   logs             tail the server log(s)
#   clean            stop, then delete the data dir(s) (Kafka topics/offsets are lost)
# Progress goes to stderr; only `env` (and `status`) write to stdout.
#
# Environment (all optional):
#   SECABLY_SERVERS_CACHE          jars/classes cache          (default: $HOME/.cache/secably-servers)
#   SECABLY_SERVERS_DIR            data, logs, pid files       (default: /tmp/secably-servers)
#   SECABLY_SERVERS_TIMEOUT        readiness timeout, seconds  (default: 120)
#   SECABLY_SERVERS_STOP_TIMEOUT   stop timeout before SIGKILL (default: 60)
#   SECABLY_KAFKA_PORT             PLAINTEXT listener          (default: 19092)
#   SECABLY_KAFKA_CONTROLLER_PORT  KRaft controller listener   (default: 19093)
#   SECABLY_KAFKA_HEAP             -Xms/-Xmx                   (default: 512m)
#   SECABLY_KAFKA_JAVA_OPTS        extra JVM options
#   SECABLY_KAFKA_EXTRA_CONFIG     extra server.properties lines (newline-separated), override ours
#   SECABLY_KAFKA_READY_CHECK      "admin" (default: log line + TCP + TopicCommand --list) or "log"
#   SECABLY_MONGO_PORT             (default: 27018)
#   SECABLY_MONGO_HEAP             -Xmx                        (default: 512m)
#   SECABLY_MONGO_VERSION          server version reported: 3.6, 4.0 or 5.0 (default: 5.0)
#   SECABLY_MONGO_LOG_LEVEL        slf4j-simple level           (default: warn)
#   SECABLY_MONGO_JAVA_OPTS        extra JVM options
#   SECABLY_MVN_ARGS               extra mvn arguments for fetch (e.g. "-o")
#   JAVA_HOME / MVN                java and mvn to use (default: java, mvn on PATH)
# A port that is not set in the environment defaults to the one the server was last started
# with (recorded in the data dir), then to the default above.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
CACHE=${SECABLY_SERVERS_CACHE:-${HOME:-/root}/.cache/secably-servers}
DIR=${SECABLY_SERVERS_DIR:-/tmp/secably-servers}
TIMEOUT=${SECABLY_SERVERS_TIMEOUT:-120}
STOP_TIMEOUT=${SECABLY_SERVERS_STOP_TIMEOUT:-60}
HOST=127.0.0.1
JAVA=${JAVA_HOME:+$JAVA_HOME/bin/}java
MVN=${MVN:-mvn}

# own session: a Ctrl-C or a process-group kill aimed at the caller does not hit the servers
DETACH=""
command -v setsid >/dev/null 2>&1 && DETACH=setsid

KDIR=$DIR/kafka
MDIR=$DIR/mongo

log() { printf '[servers] %s\n' "$*" >&2; }
die() { printf '[servers] ERROR: %s\n' "$*" >&2; exit 1; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

hash_of() { cat "$@" | sha256sum | cut -c1-16; }

# Runs "$@" while holding an exclusive lock on the cache (concurrent fetches from parallel jobs).
with_cache_lock() {
  mkdir -p "$CACHE"
  if command -v flock >/dev/null 2>&1; then
    (
      flock -w 900 9 || die "could not lock $CACHE/.lock"
      "$@"
    ) 9>"$CACHE/.lock"
  else
    "$@"
  fi
}

# ---------------------------------------------------------------------------------------------
# fetch
# ---------------------------------------------------------------------------------------------
kafka_home() { echo "$CACHE/kafka/$(hash_of "$SCRIPT_DIR/kafka/pom.xml")"; }
mongo_sources() { find "$SCRIPT_DIR/mongo/pom.xml" "$SCRIPT_DIR/mongo/src" -type f | LC_ALL=C sort; }
mongo_home() {
  local files
  mapfile -t files < <(mongo_sources)
  echo "$CACHE/mongo/$(hash_of "${files[@]}")"
}

run_mvn() {
  command -v "$MVN" >/dev/null 2>&1 || die "mvn not found (needed once to fill $CACHE)"
  # (Maven 3.8 prints stray ANSI resets even with -B -q: strip them; pipefail keeps mvn's status)
  # shellcheck disable=SC2086
  "$MVN" -B -q -Dstyle.color=never ${SECABLY_MVN_ARGS:-} "$@" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' >&2
}

do_fetch_kafka() {
  local home; home=$(kafka_home)
  [[ -f $home/ok ]] && return 0
  log "fetching Kafka into $home (Maven Central) ..."
  local t0; t0=$(now)
  rm -rf "$home"
  run_mvn -f "$SCRIPT_DIR/kafka/pom.xml" dependency:copy-dependencies \
    -Dsecably.build.dir="$home/build" -Dsecably.lib.dir="$home/lib"
  ls "$home"/lib/kafka_2.13-*.jar >/dev/null 2>&1 || die "kafka_2.13 jar missing in $home/lib"
  rm -rf "$home/build"
  touch "$home/ok"
  log "Kafka fetched in $(elapsed "$t0")s"
}

do_fetch_mongo() {
  local home; home=$(mongo_home)
  [[ -f $home/ok ]] && return 0
  log "fetching + compiling mongo-java-server launcher into $home ..."
  local t0; t0=$(now)
  rm -rf "$home"
  run_mvn -f "$SCRIPT_DIR/mongo/pom.xml" package dependency:copy-dependencies \
    -Dsecably.build.dir="$home/build" -Dsecably.lib.dir="$home/lib"
  [[ -f $home/build/classes/dev/secably/servers/MongoServerMain.class ]] || die "launcher did not compile"
  touch "$home/ok"
  log "mongo-java-server fetched in $(elapsed "$t0")s"
}

fetch_kafka() { with_cache_lock do_fetch_kafka; }
fetch_mongo() { with_cache_lock do_fetch_mongo; }

kafka_cp() { echo "$(kafka_home)/lib/*"; }
mongo_cp() { local h; h=$(mongo_home); echo "$h/build/classes:$h/lib/*"; }

# ---------------------------------------------------------------------------------------------
# process helpers
# ---------------------------------------------------------------------------------------------
pidfile() { echo "$DIR/$1/$1.pid"; }
marker() { echo "-Dsecably.server=$1@$DIR"; } # on the java command line: identifies our process

# Prints the pid if the pid file names a live process that is really ours.
live_pid() {
  local f pid; f=$(pidfile "$1")
  [[ -f $f ]] || return 1
  pid=$(<"$f")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [[ -r /proc/$pid/cmdline ]] || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" | grep -qxF -- "$(marker "$1")" || return 1
  pid_alive "$pid" || return 1
  echo "$pid"
}

tcp_open() { # host port
  if command -v timeout >/dev/null 2>&1; then
    timeout 2 bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
  else
    bash -c "exec 3<>/dev/tcp/$1/$2" 2>/dev/null
  fi
}

# port NAME ENVVAR DEFAULT: env var, else last recorded, else default.
port_of() {
  local val=${!2:-}
  if [[ -z $val && -f $DIR/$1/ports ]]; then
    val=$(awk -F= -v k="$2" '$1 == k { print $2 }' "$DIR/$1/ports")
  fi
  echo "${val:-$3}"
}
ports_of() {
  case $1 in
    kafka) echo "$(kafka_port) $(kafka_cport)" ;;
    mongo) mongo_port ;;
  esac
}
kafka_port() { port_of kafka SECABLY_KAFKA_PORT 19092; }
kafka_cport() { port_of kafka SECABLY_KAFKA_CONTROLLER_PORT 19093; }
mongo_port() { port_of mongo SECABLY_MONGO_PORT 27018; }

server_log() {
  case $1 in
    kafka) echo "$KDIR/logs/server.log" ;;
    mongo) echo "$MDIR/mongo.log" ;;
  esac
}

show_failure() { # name
  local f
  for f in "$(server_log "$1")" "$DIR/$1/$1.out"; do
    [[ -s $f ]] || continue
    printf -- '----- last 60 lines of %s -----\n' "$f" >&2
    tail -n 60 "$f" >&2
  done
}

rotate() { local f; for f in "$@"; do [[ -f $f ]] && mv -f "$f" "$f.1"; done; return 0; }

# ---------------------------------------------------------------------------------------------
# kafka
# ---------------------------------------------------------------------------------------------
write_kafka_config() {
  local port=$1 cport=$2
  mkdir -p "$KDIR/data" "$KDIR/logs"
  cat >"$KDIR/server.properties" <<EOF
# generated by scripts/servers/servers.sh; rewritten on every start
process.roles=broker,controller
node.id=1
# static single-voter quorum: the controller port may change between restarts
controller.quorum.voters=1@$HOST:$cport
listeners=PLAINTEXT://$HOST:$port,CONTROLLER://$HOST:$cport
advertised.listeners=PLAINTEXT://$HOST:$port
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$KDIR/data

auto.create.topics.enable=true
delete.topic.enable=true
num.partitions=3
default.replication.factor=1
min.insync.replicas=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0

# a broker that was SIGKILLed can re-register only after its old session expired (Kafka's default
# 9 s made a kill+start take ~13 s); heartbeats stay in-process, so a short session is safe here
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000

# small machine (2 cores)
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
EOF
  if [[ -n ${SECABLY_KAFKA_EXTRA_CONFIG:-} ]]; then
    # later keys win in a Java properties file
    printf '\n# SECABLY_KAFKA_EXTRA_CONFIG\n%s\n' "$SECABLY_KAFKA_EXTRA_CONFIG" >>"$KDIR/server.properties"
  fi
  cat >"$KDIR/log4j2.properties" <<EOF
# generated by scripts/servers/servers.sh: everything to one file, nothing to the console
status = warn
appender.file.type = RollingFile
appender.file.name = FILE
appender.file.fileName = $KDIR/logs/server.log
appender.file.filePattern = $KDIR/logs/server.log.%i
appender.file.layout.type = PatternLayout
appender.file.layout.pattern = [%d] %p %m (%c)%n
appender.file.policies.type = Policies
appender.file.policies.size.type = SizeBasedTriggeringPolicy
appender.file.policies.size.size = 50MB
appender.file.strategy.type = DefaultRolloverStrategy
appender.file.strategy.max = 2
rootLogger.level = info
rootLogger.appenderRef.file.ref = FILE
logger.request.name = kafka.request.logger
logger.request.level = warn
logger.statechange.name = state.change.logger
logger.statechange.level = warn
logger.cleaner.name = kafka.log.LogCleaner
logger.cleaner.level = warn
logger.storage.name = org.apache.kafka.storage.internals
logger.storage.level = warn
logger.unifiedlog.name = kafka.log
logger.unifiedlog.level = warn
logger.appinfo.name = org.apache.kafka.common.utils.internals.AppInfoParser
logger.appinfo.level = warn
logger.runtime.name = org.apache.kafka.coordinator.common.runtime
logger.runtime.level = warn
logger.replication.name = org.apache.kafka.controller.ReplicationControlManager
logger.replication.level = warn
logger.partitionchange.name = org.apache.kafka.controller.PartitionChangeBuilder
logger.partitionchange.level = warn
logger.partition.name = kafka.cluster.Partition
logger.partition.level = warn
logger.config.name = org.apache.kafka.common.config.AbstractConfig
logger.config.level = warn
EOF
  printf 'SECABLY_KAFKA_PORT=%s\nSECABLY_KAFKA_CONTROLLER_PORT=%s\n' "$port" "$cport" >"$KDIR/ports"
}

kafka_java() { # main class + args; runs a Kafka tool on the cached classpath
  "$JAVA" -Xmx256m -XX:TieredStopAtLevel=1 -Xshare:auto \
    -Dlog4j2.configurationFile="$KDIR/log4j2-tools.properties" \
    -cp "$(kafka_cp)" "$@"
}

write_tools_log_config() {
  cat >"$KDIR/log4j2-tools.properties" <<'EOF'
status = error
appender.err.type = Console
appender.err.name = STDERR
appender.err.target = SYSTEM_ERR
appender.err.layout.type = PatternLayout
appender.err.layout.pattern = %p %m%n
rootLogger.level = error
rootLogger.appenderRef.err.ref = STDERR
EOF
}

format_kafka() {
  [[ -f $KDIR/data/meta.properties ]] && return 0
  local cid
  if [[ -s $KDIR/cluster-id ]]; then
    cid=$(<"$KDIR/cluster-id")
  else
    # 16 random bytes, base64url without padding = a Kafka cluster id (Uuid)
    cid=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    echo "$cid" >"$KDIR/cluster-id"
  fi
  log "kafka: formatting $KDIR/data (cluster id $cid)"
  if ! kafka_java kafka.tools.StorageTool format --ignore-formatted \
      -t "$cid" -c "$KDIR/server.properties" >"$KDIR/format.out" 2>&1; then
    cat "$KDIR/format.out" >&2
    die "kafka: storage format failed"
  fi
}

kafka_ready() { # pid port -> 0 when ready
  local port=$2
  grep -qF 'Kafka Server started' "$KDIR/logs/server.log" 2>/dev/null || return 1
  tcp_open "$HOST" "$port" || return 1
  if [[ ${SECABLY_KAFKA_READY_CHECK:-admin} == admin ]]; then
    # a real client round trip (metadata + ListTopics) against the broker
    local to=""; command -v timeout >/dev/null 2>&1 && to="timeout 60"
    $to "$JAVA" -Xmx128m -XX:TieredStopAtLevel=1 -Xshare:auto \
      -Dlog4j2.configurationFile="$KDIR/log4j2-tools.properties" \
      -cp "$(kafka_cp)" org.apache.kafka.tools.TopicCommand \
      --bootstrap-server "$HOST:$port" --list >"$KDIR/ready-check.out" 2>&1 || return 1
  fi
  return 0
}

start_kafka() {
  local port cport pid t0
  port=$(kafka_port); cport=$(kafka_cport)
  if pid=$(live_pid kafka); then
    if tcp_open "$HOST" "$port"; then
      log "kafka: already running (pid $pid) on $HOST:$port"
      return 0
    fi
    log "kafka: pid $pid is running but $HOST:$port is not open yet; waiting"
    wait_ready kafka "$pid" "$(now)"
    return
  fi
  fetch_kafka
  local p
  for p in "$port" "$cport"; do
    tcp_open "$HOST" "$p" && die "kafka: $HOST:$p is already in use by another process"
  done
  t0=$(now)
  write_kafka_config "$port" "$cport"
  write_tools_log_config
  format_kafka
  rotate "$KDIR/logs/server.log" "$KDIR/kafka.out"
  local heap=${SECABLY_KAFKA_HEAP:-512m}
  # shellcheck disable=SC2086
  $DETACH "$JAVA" "$(marker kafka)" -Xms"$heap" -Xmx"$heap" \
    -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 \
    -XX:+ExplicitGCInvokesConcurrent -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dkafka.logs.dir="$KDIR/logs" -Dlog4j2.configurationFile="$KDIR/log4j2.properties" \
    ${SECABLY_KAFKA_JAVA_OPTS:-} \
    -cp "$(kafka_cp)" kafka.Kafka "$KDIR/server.properties" \
    </dev/null >"$KDIR/kafka.out" 2>&1 &
  pid=$!
  echo "$pid" >"$(pidfile kafka)"
  log "kafka: started pid $pid on $HOST:$port (controller $cport), data in $KDIR"
  wait_ready kafka "$pid" "$t0"
}

# ---------------------------------------------------------------------------------------------
# mongo
# ---------------------------------------------------------------------------------------------
mongo_ready() { # pid port
  grep -qxF "listening on $HOST:$2" "$MDIR/mongo.log" 2>/dev/null && tcp_open "$HOST" "$2"
}

start_mongo() {
  local port pid t0
  port=$(mongo_port)
  if pid=$(live_pid mongo); then
    if tcp_open "$HOST" "$port"; then
      log "mongo: already running (pid $pid) on $HOST:$port"
      return 0
    fi
    wait_ready mongo "$pid" "$(now)"
    return
  fi
  fetch_mongo
  tcp_open "$HOST" "$port" && die "mongo: $HOST:$port is already in use by another process"
  t0=$(now)
  mkdir -p "$MDIR"
  printf 'SECABLY_MONGO_PORT=%s\n' "$port" >"$MDIR/ports"
  rotate "$MDIR/mongo.log"
  # stdout (the "listening on" line) and slf4j-simple (stderr) both go to mongo.log
  # shellcheck disable=SC2086
  $DETACH "$JAVA" "$(marker mongo)" -Xmx"${SECABLY_MONGO_HEAP:-512m}" -XX:+UseSerialGC \
    -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
    -Dorg.slf4j.simpleLogger.defaultLogLevel="${SECABLY_MONGO_LOG_LEVEL:-warn}" \
    -Dorg.slf4j.simpleLogger.showDateTime=true \
    -Dorg.slf4j.simpleLogger.dateTimeFormat="yyyy-MM-dd'T'HH:mm:ss.SSS" \
    ${SECABLY_MONGO_JAVA_OPTS:-} \
    -cp "$(mongo_cp)" dev.secably.servers.MongoServerMain \
    --host "$HOST" --port "$port" --version "${SECABLY_MONGO_VERSION:-5.0}" \
    </dev/null >"$MDIR/mongo.log" 2>&1 &
  pid=$!
  echo "$pid" >"$(pidfile mongo)"
  log "mongo: started pid $pid on $HOST:$port"
  wait_ready mongo "$pid" "$t0"
}

# ---------------------------------------------------------------------------------------------
# generic
# ---------------------------------------------------------------------------------------------
wait_ready() { # name pid t0
  local name=$1 pid=$2 t0=$3 port deadline
  case $name in kafka) port=$(kafka_port) ;; mongo) port=$(mongo_port) ;; esac
  deadline=$(($(date +%s) + TIMEOUT))
  while :; do
    if ! pid_alive "$pid"; then
      show_failure "$name"
      rm -f "$(pidfile "$name")"
      die "$name: process $pid exited during startup"
    fi
    if "${name}_ready" "$pid" "$port"; then
      log "$name: ready on $HOST:$port after $(elapsed "$t0")s (pid $pid, RSS $(rss_mib "$pid") MiB)"
      return 0
    fi
    if (($(date +%s) >= deadline)); then
      show_failure "$name"
      die "$name: not ready after ${TIMEOUT}s (pid $pid left running; see $DIR/$name)"
    fi
    sleep 0.25
  done
}

pid_alive() { # alive: exists and is not a zombie whose other threads have all exited too
  local st
  st=$(awk '/^State:/ { s = $2 } /^Threads:/ { t = $2 } END { print s, t }' "/proc/$1/status" 2>/dev/null) || return 1
  [[ -n $st && $st != "Z 1" ]] || return 1
  # a JVM's leader thread turns Z before its other threads finish exiting (and close the sockets)
  [[ ${st%% *} != Z ]] || [[ $(find "/proc/$1/task" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) -gt 1 ]]
}

rss_mib() { awk '/^VmRSS:/ { printf "%d", $2 / 1024 }' "/proc/$1/status" 2>/dev/null || echo "?"; }

stop_one() { # name signal
  local name=$1 sig=${2:-TERM} pid deadline
  if ! pid=$(live_pid "$name"); then
    rm -f "$(pidfile "$name")"
    log "$name: not running"
    return 0
  fi
  log "$name: sending SIG$sig to pid $pid"
  kill -s "$sig" "$pid" 2>/dev/null || true
  deadline=$(($(date +%s) + STOP_TIMEOUT))
  # identity was checked above; from here on wait for the pid itself (while it exits, its
  # /proc cmdline is already empty but its sockets may still be open)
  while pid_alive "$pid"; do
    if (($(date +%s) >= deadline)); then
      log "$name: still alive after ${STOP_TIMEOUT}s; sending SIGKILL"
      kill -s KILL "$pid" 2>/dev/null || true
      deadline=$(($(date +%s) + 30))
    fi
    sleep 0.2
  done
  rm -f "$(pidfile "$name")"
  local port
  for port in $(ports_of "$name"); do
    deadline=$(($(date +%s) + 15))
    while tcp_open "$HOST" "$port" && (($(date +%s) < deadline)); do sleep 0.2; done
  done
  log "$name: stopped"
}

status_one() {
  local name=$1 pid port
  case $name in kafka) port=$(kafka_port) ;; mongo) port=$(mongo_port) ;; esac
  if pid=$(live_pid "$name"); then
    if tcp_open "$HOST" "$port"; then
      echo "$name: running pid=$pid addr=$HOST:$port rss=$(rss_mib "$pid")MiB"
      return 0
    fi
    echo "$name: starting pid=$pid addr=$HOST:$port (port not open)"
    return 1
  fi
  echo "$name: stopped"
  return 1
}

print_env() {
  echo "export KAFKA_BROKERS=$HOST:$(kafka_port)"
  echo "export MONGODB_URL=mongodb://$HOST:$(mongo_port)/?directConnection=true"
}

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

main() {
  local cmd=${1:-}
  [[ -n $cmd ]] || usage
  shift
  local which=${1:-all}
  local names
  case $which in
    all) names=(kafka mongo) ;;
    kafka | mongo) names=("$which") ;;
    *) usage ;;
  esac
  local n rc=0
  case $cmd in
    fetch) for n in "${names[@]}"; do "fetch_$n"; done ;;
    start) for n in "${names[@]}"; do "start_$n"; done ;;
    stop) for n in "${names[@]}"; do stop_one "$n" TERM; done ;;
    kill) for n in "${names[@]}"; do stop_one "$n" KILL; done ;;
    restart)
      for n in "${names[@]}"; do stop_one "$n" TERM; done
      for n in "${names[@]}"; do "start_$n"; done
      ;;
    status) for n in "${names[@]}"; do status_one "$n" || rc=3; done ;;
    env) print_env ;;
    logs) for n in "${names[@]}"; do
        f=$(server_log "$n")
        [[ -f $f ]] && { echo "== $f"; tail -n 100 "$f"; }
      done ;;
    clean)
      for n in "${names[@]}"; do stop_one "$n" TERM; rm -rf "${DIR:?}/$n"; log "$n: removed $DIR/$n"; done
      ;;
    -h | --help | help) usage ;;
    *) usage ;;
  esac
  return $rc
}

main "$@"
