#!/usr/bin/env bash
# Runs a real single-node Apache Kafka broker (KRaft: one combined broker+controller) on
# 127.0.0.1 for Roster's dev and tests, from Kafka's jars on Maven Central (fetched with mvn)
# and the machine's JDK (17+). No Docker, no Kafka tarball.
#
#   scripts/kafka.sh fetch               fetch the jars into the cache (once per version)
#   scripts/kafka.sh start               fetch if needed, format storage once, start, wait for ready
#   scripts/kafka.sh stop                SIGTERM, wait, then SIGKILL
#   scripts/kafka.sh kill                SIGKILL (simulates a crash); `start` brings it back
#   scripts/kafka.sh restart-after-kill  same as start (same data dir), kept as a readable alias
#   scripts/kafka.sh restart             stop + start
#   scripts/kafka.sh status              exit 0 if running and accepting connections
#   scripts/kafka.sh reset               stop and delete the data dir
#   scripts/kafka.sh logs [N]            tail the broker log
#   scripts/kafka.sh bootstrap           print host:port for clients
#
# Environment:
#   KAFKA_PORT (9092)  KAFKA_CONTROLLER_PORT (KAFKA_PORT+1)
#   ROSTER_KAFKA_HOME  cache root (~/.cache/roster/kafka); jars go to $ROSTER_KAFKA_HOME/<version>/libs
#   ROSTER_KAFKA_DATA  data dir ($ROSTER_KAFKA_HOME/<version>/data): config, KRaft log, broker logs, pid
#   KAFKA_VERSION      overrides <kafka.version> of scripts/kafka/pom.xml (4.x only: the log
#                      backend and config below are for 4.x)
#   KAFKA_HEAP_OPTS (-Xmx512m -Xms256m)  KAFKA_JVM_OPTS (see below)  KAFKA_START_TIMEOUT (60)
#
# Version: Kafka 4.4.0, the newest on Maven Central (<kafka.version> in scripts/kafka/pom.xml).
# Kafka 4 dropped many old protocol versions (KIP-896), but kafkajs 2.2.4 negotiates versions
# with ApiVersions and every API it uses still has a version both sides speak. Checked with
# kafkajs 2.2.4 against this script: createTopics/createPartitions/describe+alterConfigs/
# deleteTopics, produce with key + headers (+ gzip, idempotent, transactions with sendOffsets),
# a consumer group (subscribe fromBeginning, commits, seek, set/reset/fetchOffsets,
# describe/deleteGroups; the classic group protocol), auto topic creation, and kill -9 + start
# with a live producer and consumer, which carried on. So no fallback to 3.9.x was needed.
# Readiness means: the broker answers metadata, its group and transaction coordinators are
# loaded, and it holds a block of producer ids (the probe below warms those up, creating
# __consumer_offsets and __transaction_state on the first start).
#
# Files: scripts/kafka/pom.xml (the jars: kafka_2.13 + slf4j 2 + log4j2), scripts/kafka/
# server.properties (template, rendered to $DATA/server.properties), scripts/kafka/log4j2.xml
# (broker log -> $DATA/logs/server.log). The jar cache is keyed by Kafka version and refetched
# when pom.xml changes.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
POM="$SCRIPT_DIR/kafka/pom.xml"
TEMPLATE="$SCRIPT_DIR/kafka/server.properties"
LOG4J_CONF="$SCRIPT_DIR/kafka/log4j2.xml"

POM_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$POM" | head -n1)
KAFKA_VERSION=${KAFKA_VERSION:-$POM_VERSION}
CACHE_ROOT=${ROSTER_KAFKA_HOME:-$HOME/.cache/roster/kafka}
CACHE="$CACHE_ROOT/$KAFKA_VERSION"
LIBS="$CACHE/libs"
PROBE_DIR="$CACHE/probe"
DATA=${ROSTER_KAFKA_DATA:-$CACHE/data}
PORT=${KAFKA_PORT:-9092}
CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((PORT + 1))}
HOST=127.0.0.1
START_TIMEOUT=${KAFKA_START_TIMEOUT:-60}
STOP_TIMEOUT=${KAFKA_STOP_TIMEOUT:-30}
HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xmx512m -Xms256m}
# SerialGC + C1 only: measured on 2 cores against Kafka's own G1 flags, start to ready
# ~2.8s vs ~3.5s and RSS ~350 vs ~400 MiB; throughput does not matter for tests.
# Override with KAFKA_JVM_OPTS.
JVM_OPTS=${KAFKA_JVM_OPTS:--XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:MaxDirectMemorySize=256m}

PID_FILE="$DATA/kafka.pid"
CONFIG="$DATA/server.properties"
LOG_DIR="$DATA/logs"
KRAFT_DIR="$DATA/kraft"
MARKER="$DATA/.roster-kafka-data"

if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/java" ]]; then
  JAVA="$JAVA_HOME/bin/java"
  JAVAC="$JAVA_HOME/bin/javac"
else
  JAVA=java
  JAVAC=javac
fi

say() { printf 'kafka: %s\n' "$*"; }
die() { printf 'kafka: error: %s\n' "$*" >&2; exit 1; }
now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1fs", b - a }'; }

# The key of the jar cache: the pom's content (version, log backend) and the Kafka version.
cache_key() { printf '%s %s\n' "$KAFKA_VERSION" "$(sha256sum "$POM" | cut -c1-16)"; }

libs_ready() { [[ -f "$LIBS/.complete" && "$(cat "$LIBS/.complete")" == "$(cache_key)" ]]; }

with_lock() { # with_lock FD FILE CMD...: serialise fetch/start between concurrent callers
  local fd=$1 lock=$2; shift 2
  mkdir -p "$(dirname "$lock")"
  eval "exec $fd>\"\$lock\""
  flock -w 300 "$fd" || die "timed out waiting for lock $lock"
  "$@"
  eval "exec $fd>&-"
}

do_fetch() {
  if libs_ready; then
    [[ "${1:-}" == quiet ]] || say "jars for $KAFKA_VERSION already in $LIBS"
    return 0
  fi
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  local t0 tmp
  t0=$(now)
  say "fetching jars for Kafka $KAFKA_VERSION into $LIBS…"
  mkdir -p "$CACHE"
  tmp=$(mktemp -d "$CACHE/libs.tmp.XXXXXX")
  if ! mvn -q -B -f "$POM" dependency:copy-dependencies \
      -Dkafka.version="$KAFKA_VERSION" -DoutputDirectory="$tmp" >"$CACHE/fetch.log" 2>&1; then
    tail -n 30 "$CACHE/fetch.log" >&2
    rm -rf "$tmp"
    die "mvn could not fetch Kafka $KAFKA_VERSION (full output: $CACHE/fetch.log)"
  fi
  [[ -f "$tmp/kafka_2.13-$KAFKA_VERSION.jar" ]] || { rm -rf "$tmp"; die "kafka_2.13-$KAFKA_VERSION.jar missing after fetch"; }
  cache_key >"$tmp/.complete"
  rm -rf "$LIBS" "$PROBE_DIR"
  mv "$tmp" "$LIBS"
  say "fetched $(find "$LIBS" -name '*.jar' | wc -l) jars ($(du -sh "$LIBS" | cut -f1)) in $(since "$t0")"
}

# A tiny AdminClient program that answers "does the broker serve metadata?". Kafka 4.x no
# longer ships TopicCommand in kafka_2.13 (it moved to kafka-tools), so we compile our own,
# once per cache, against kafka-clients.
write_probe() {
  mkdir -p "$PROBE_DIR"
  cat >"$PROBE_DIR/RosterKafkaProbe.java.new" <<'JAVA'
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.errors.TransactionalIdNotFoundException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * args: bootstrap timeoutMs [pid [warm]]. Exit 0 when the broker answers metadata and its
 * coordinators are loaded, 1 on timeout, 3 if the broker process (pid) died.
 */
public class RosterKafkaProbe {
  static long left(long deadline) {
    return Math.max(200, Math.min(5000, deadline - System.currentTimeMillis()));
  }

  public static void main(String[] args) throws Exception {
    String bootstrap = args[0];
    long deadline = System.currentTimeMillis() + Long.parseLong(args[1]);
    long pid = args.length > 2 ? Long.parseLong(args[2]) : -1;
    boolean warm = args.length > 3 && args[3].equals("warm");
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap);
    p.put("client.id", "roster-kafka-probe");
    p.put("request.timeout.ms", "3000");
    p.put("default.api.timeout.ms", "5000");
    p.put("reconnect.backoff.ms", "100");
    p.put("reconnect.backoff.max.ms", "200");
    p.put("retry.backoff.ms", "50");
    p.put("retry.backoff.max.ms", "200");
    Throwable last = null;
    Admin admin = Admin.create(p);
    try {
      while (System.currentTimeMillis() < deadline) {
        if (pid > 0 && !ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)) {
          System.out.println("broker process " + pid + " exited");
          System.exit(3);
        }
        try {
          DescribeClusterResult c = admin.describeCluster();
          Collection<Node> nodes = c.nodes().get(left(deadline), TimeUnit.MILLISECONDS);
          Node controller = c.controller().get(left(deadline), TimeUnit.MILLISECONDS);
          Set<String> topics = admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(left(deadline), TimeUnit.MILLISECONDS);
          if (!nodes.isEmpty()) {
            // The group and transaction coordinators load their topics in the background after a
            // start. Wait for them too (the clients retry COORDINATOR_LOAD_IN_PROGRESS). With
            // "warm" (at start), also create the two internal topics if missing and have the
            // broker fetch its first producer-id block, so the first test does not pay for (or
            // log) that.
            if (warm || topics.contains("__consumer_offsets")) {
              try {
                admin.describeConsumerGroups(List.of("roster-kafka-probe")).all().get(left(deadline), TimeUnit.MILLISECONDS);
              } catch (ExecutionException e) {
                if (!(e.getCause() instanceof GroupIdNotFoundException)) throw e;
              }
            }
            if (warm) {
              Properties pp = new Properties();
              pp.putAll(p);
              // A new id each time: only a new producer id makes the broker fetch its first
              // block of ids from the controller (kafkajs's first producer otherwise gets
              // COORDINATOR_LOAD_IN_PROGRESS for that and logs an ERROR before retrying).
              pp.put("transactional.id", "roster-kafka-probe-" + java.util.UUID.randomUUID());
              pp.put("max.block.ms", String.valueOf(left(deadline)));
              pp.put("key.serializer", ByteArraySerializer.class.getName());
              pp.put("value.serializer", ByteArraySerializer.class.getName());
              try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
                producer.initTransactions();
              }
            } else if (topics.contains("__transaction_state")) {
              try {
                admin.describeTransactions(List.of("roster-kafka-probe")).all().get(left(deadline), TimeUnit.MILLISECONDS);
              } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TransactionalIdNotFoundException)) throw e;
              }
            }
            System.out.println("ok cluster=" + c.clusterId().get() + " brokers=" + nodes.size()
                + " controller=" + (controller == null ? "none" : controller.id()) + " topics=" + topics.size());
            System.exit(0);
          }
        } catch (Exception e) {
          last = e;
        }
        Thread.sleep(100);
      }
      System.out.println("no metadata from " + bootstrap + ": " + last);
      System.exit(1);
    } finally {
      admin.close(Duration.ofMillis(200));
    }
  }
}
JAVA
  if [[ -f "$PROBE_DIR/RosterKafkaProbe.class" ]] \
      && cmp -s "$PROBE_DIR/RosterKafkaProbe.java.new" "$PROBE_DIR/RosterKafkaProbe.java"; then
    rm -f "$PROBE_DIR/RosterKafkaProbe.java.new"
    return 0
  fi
  mv "$PROBE_DIR/RosterKafkaProbe.java.new" "$PROBE_DIR/RosterKafkaProbe.java"
  rm -f "$PROBE_DIR"/*.class
  command -v "$JAVAC" >/dev/null || die "javac not found: a JDK (17+) is needed, not only a JRE"
  "$JAVAC" -nowarn -d "$PROBE_DIR" -cp "$LIBS/kafka-clients-$KAFKA_VERSION.jar" "$PROBE_DIR/RosterKafkaProbe.java" \
    || die "could not compile the readiness probe"
}

probe() { # probe TIMEOUT_MS [PID [warm]]
  "$JAVA" -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto -Dlog4j2.level=OFF \
    -cp "$PROBE_DIR:$LIBS/*" RosterKafkaProbe "$HOST:$PORT" "$@" 2>>"$LOG_DIR/probe.log"
}

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# The broker's pid: the pid file if it names a live kafka.Kafka on our config, else a search
# for such a process (pid file lost), else nothing.
broker_pid() {
  local pid
  if [[ -f "$PID_FILE" ]]; then
    pid=$(cat "$PID_FILE" 2>/dev/null || true)
    if [[ "$pid" =~ ^[0-9]+$ ]] && { tr '\0' ' ' <"/proc/$pid/cmdline"; } 2>/dev/null | grep -qF "kafka.Kafka $CONFIG"; then
      echo "$pid"
      return 0
    fi
  fi
  pid=$(pgrep -f -- "kafka\.Kafka $CONFIG\$" 2>/dev/null | head -n1 || true)
  if [[ -n "$pid" ]]; then
    echo "$pid" >"$PID_FILE"
    echo "$pid"
  fi
}

LOG_START=0 # byte offset of server.log when this start began: older lines are not this run's
log_tail() {
  local n=40
  local recent
  recent=$(tail -c +"$((LOG_START + 1))" "$LOG_DIR/server.log" 2>/dev/null | tail -n "$n")
  if [[ -n "$recent" ]]; then
    printf -- '--- last lines of %s (this start) ---\n%s\n' "$LOG_DIR/server.log" "$recent" >&2
  fi
  if [[ -s "$LOG_DIR/kafka.out" ]]; then
    printf -- '--- last lines of %s ---\n' "$LOG_DIR/kafka.out" >&2
    tail -n "$n" "$LOG_DIR/kafka.out" >&2
  fi
}

render_config() {
  mkdir -p "$DATA" "$LOG_DIR" "$KRAFT_DIR"
  touch "$MARKER"
  sed -e "s#@PORT@#$PORT#g" -e "s#@CONTROLLER_PORT@#$CONTROLLER_PORT#g" -e "s#@LOG_DIRS@#$KRAFT_DIR#g" \
    "$TEMPLATE" >"$CONFIG.tmp"
  mv "$CONFIG.tmp" "$CONFIG"
}

# A Kafka Uuid: 16 random bytes, url-safe base64 without padding; Kafka never hands out ids
# starting with '-' (they read as CLI flags), so neither do we.
random_cluster_id() {
  local id
  while :; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n')
    [[ "$id" != -* ]] && { echo "$id"; return; }
  done
}

format_storage() {
  [[ -f "$KRAFT_DIR/meta.properties" ]] && return 0
  local id
  id=$(random_cluster_id)
  say "formatting KRaft storage in $KRAFT_DIR (cluster id $id)"
  if ! "$JAVA" -Xmx256m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 \
      -Dlog4j2.configurationFile="$LOG4J_CONF" -Dkafka.logs.dir="$LOG_DIR" \
      -cp "$LIBS/*" kafka.tools.StorageTool format -t "$id" -c "$CONFIG" >"$LOG_DIR/format.log" 2>&1; then
    cat "$LOG_DIR/format.log" >&2
    die "formatting storage failed"
  fi
  echo "$id" >"$DATA/cluster.id"
}

wait_ready() { # wait_ready PID T0
  # The probe starts at once (its JVM start overlaps the broker's), retries until the broker
  # answers metadata, and gives up early if the broker process dies.
  local pid=$1 t0=$2 rc=0 out
  out=$(probe "$((START_TIMEOUT * 1000))" "$pid" warm) || rc=$?
  case $rc in
    0) say "ready on $HOST:$PORT in $(since "$t0") (pid $pid; ${out#ok })" ;;
    3) log_tail; rm -f "$PID_FILE"; die "broker (pid $pid) exited during startup" ;;
    *)
      log_tail
      # Do not leave a half-started broker behind: the next start begins from scratch.
      kill -TERM "$pid" 2>/dev/null || true
      wait_gone "$pid" 10 || kill -KILL "$pid" 2>/dev/null || true
      rm -f "$PID_FILE"
      if port_open "$PORT"; then
        die "broker (pid $pid) listens on $HOST:$PORT but answered no metadata within ${START_TIMEOUT}s (stopped it): $out"
      fi
      die "broker (pid $pid) not ready on $HOST:$PORT after ${START_TIMEOUT}s (stopped it): $out"
      ;;
  esac
}

do_start() {
  local t0 pid
  t0=$(now)
  pid=$(broker_pid)
  if [[ -n "$pid" ]]; then
    if port_open "$PORT"; then
      with_lock 8 "$CACHE/.fetch.lock" write_probe
      mkdir -p "$LOG_DIR"
      if probe 10000 "$pid" >/dev/null; then
        say "already running on $HOST:$PORT (pid $pid)"
        return 0
      fi
    fi
    say "broker (pid $pid) is running but not ready yet; waiting"
    wait_ready "$pid" "$t0"
    return 0
  fi
  if port_open "$PORT"; then
    die "port $PORT on $HOST is taken by another process (set KAFKA_PORT)"
  fi
  if port_open "$CONTROLLER_PORT"; then
    die "controller port $CONTROLLER_PORT on $HOST is taken by another process (set KAFKA_CONTROLLER_PORT)"
  fi
  command -v "$JAVA" >/dev/null || die "java not found (a JDK 17+ is needed)"
  with_lock 8 "$CACHE/.fetch.lock" do_fetch quiet
  with_lock 8 "$CACHE/.fetch.lock" write_probe
  render_config
  format_storage
  : >"$LOG_DIR/kafka.out"
  LOG_START=$(stat -c %s "$LOG_DIR/server.log" 2>/dev/null || echo 0)
  # setsid: the broker outlives the shell (and the test runner) that started it.
  # 8>&- 9>&-: do not hand the locks down to the broker.
  # shellcheck disable=SC2086
  setsid "$JAVA" $HEAP_OPTS $JVM_OPTS \
    -server -Djava.awt.headless=true \
    -Dkafka.logs.dir="$LOG_DIR" -Dlog4j2.configurationFile="$LOG4J_CONF" \
    -cp "$LIBS/*" kafka.Kafka "$CONFIG" \
    </dev/null >>"$LOG_DIR/kafka.out" 2>&1 8>&- 9>&- &
  pid=$!
  echo "$pid" >"$PID_FILE"
  say "starting Kafka $KAFKA_VERSION (pid $pid, data $DATA)"
  wait_ready "$pid" "$t0"
}

wait_gone() { # wait_gone PID SECONDS -> 0 if gone
  local pid=$1 i
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  return 1
}

do_stop() {
  local pid t0
  pid=$(broker_pid)
  if [[ -z "$pid" ]]; then
    rm -f "$PID_FILE"
    say "not running"
    return 0
  fi
  t0=$(now)
  say "stopping (pid $pid)…"
  kill -TERM "$pid" 2>/dev/null || true
  if ! wait_gone "$pid" "$STOP_TIMEOUT"; then
    say "still running after ${STOP_TIMEOUT}s, sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  fi
  rm -f "$PID_FILE"
  say "stopped in $(since "$t0")"
}

do_kill() {
  local pid
  pid=$(broker_pid)
  if [[ -z "$pid" ]]; then
    say "not running"
    return 0
  fi
  kill -KILL "$pid" 2>/dev/null || true
  wait_gone "$pid" 10 || die "pid $pid survived SIGKILL"
  rm -f "$PID_FILE"
  say "killed (SIGKILL) pid $pid"
}

do_status() {
  local pid
  pid=$(broker_pid)
  if [[ -z "$pid" ]]; then
    say "not running"
    return 1
  fi
  if port_open "$PORT"; then
    say "running on $HOST:$PORT (pid $pid, rss $(awk '/VmRSS/ {printf "%d MiB", $2/1024}' "/proc/$pid/status" 2>/dev/null))"
    return 0
  fi
  say "process $pid is up but $HOST:$PORT does not accept connections"
  return 1
}

do_reset() {
  do_stop
  if [[ -d "$DATA" ]]; then
    case "$DATA" in
      "" | / | "$HOME" | "$HOME/") die "refusing to delete $DATA" ;;
    esac
    if [[ ! -f "$MARKER" && -n "$(ls -A "$DATA")" ]]; then
      die "$DATA does not look like a kafka.sh data dir (no $(basename "$MARKER")); not deleting it"
    fi
    rm -rf "$DATA"
    say "deleted $DATA"
  else
    say "no data dir at $DATA"
  fi
}

cmd=${1:-}
case "$cmd" in
  fetch) with_lock 8 "$CACHE/.fetch.lock" do_fetch ;;
  start | restart-after-kill)
    mkdir -p "$DATA"
    with_lock 9 "$DATA/.start.lock" do_start
    ;;
  restart)
    do_stop
    mkdir -p "$DATA"
    with_lock 9 "$DATA/.start.lock" do_start
    ;;
  stop) do_stop ;;
  kill) do_kill ;;
  status) do_status ;;
  reset) do_reset ;;
  logs) tail -n "${2:-100}" "$LOG_DIR/server.log" ;;
  bootstrap) echo "$HOST:$PORT" ;;
  *)
    echo "usage: $0 fetch|start|stop|kill|restart-after-kill|restart|status|reset|logs [N]|bootstrap" >&2
    sed -n '2,23p' "$0" >&2
    exit 2
    ;;
esac
