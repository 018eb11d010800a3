#!/usr/bin/env bash
# Single-node Apache Kafka broker (KRaft, no ZooKeeper) for tests and local use.
#
#   kafka.sh fetch                          resolve the broker jars into ./lib (Maven Central)
#   kafka.sh start  [--port N] [--dir DIR]  format DIR if needed, start, wait until it answers
#   kafka.sh stop   [--port N] [--dir DIR]  SIGTERM, up to 30 s, then SIGKILL
#   kafka.sh status [--port N] [--dir DIR]  exit 0 if running, 3 if not
#
# Defaults: port 9092 (env KAFKA_PORT), DIR deploy/kafka/data/<port> (env KAFKA_DIR).
# Every subcommand is idempotent.  See deploy/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
LIB="$HERE/lib"
MARKER="$LIB/.fetched"            # holds the sha256 of the pom.xml that produced lib/

START_TIMEOUT="${KAFKA_START_TIMEOUT:-90}"   # seconds
STOP_TIMEOUT="${KAFKA_STOP_TIMEOUT:-30}"     # seconds
HEAP_OPTS="${KAFKA_HEAP_OPTS:--Xms128m -Xmx512m}"

log() { printf 'kafka.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    sed -n '2,10p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

# ---------------------------------------------------------------- helpers --

# A python that can import kafka-python (for the readiness probe); prints
# nothing if there is none.
find_python() {
    local py
    for py in "${KAFKA_PYTHON:-}" "$REPO/.venv/bin/python" python3; do
        [ -n "$py" ] || continue
        if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import kafka' >/dev/null 2>&1; then
            printf '%s\n' "$py"
            return 0
        fi
    done
    return 0
}

# True if PID is a live Kafka broker process.  Nothing may reap the broker
# once kafka.sh has exited (PID 1 in some containers does not), so a dead
# broker can linger as a zombie: count it as alive only while one of its
# threads is not a zombie (the JVM's sockets close when the last one exits).
is_kafka_pid() {
    local pid="$1" stat cmdline
    [ -n "$pid" ] || return 1
    kill -0 "$pid" 2>/dev/null || return 1
    [ -d "/proc/$pid" ] || return 0                       # no procfs: trust kill -0
    cmdline="$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null || true)"
    case "$cmdline" in
        ''|*kafka.Kafka*) ;;                              # empty for a zombie
        *) return 1 ;;                                    # recycled pid
    esac
    for stat in "/proc/$pid"/task/*/stat; do
        # the state is the first field after "(comm)"; Z = zombie
        [ "$(sed 's/^.*) //' "$stat" 2>/dev/null | cut -d' ' -f1)" = "Z" ] || return 0
    done
    return 1
}

read_pid() {
    if [ -f "$DIR/kafka.pid" ]; then cat "$DIR/kafka.pid"; fi
}

port_open() {  # port_open PORT -> true if something accepts TCP on 127.0.0.1:PORT
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

wait_port_free() {  # a broker that just died may hold the port for a moment
    local _
    for _ in $(seq 50); do
        port_open "$PORT" || return 0
        sleep 0.1
    done
    return 1
}

free_port() {
    local py
    py="$(command -v python3 || true)"
    [ -n "$py" ] || py="$REPO/.venv/bin/python"
    "$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

elapsed() {  # seconds since the script started, with one decimal
    local now
    now="$(date +%s%N)"
    awk -v a="$START_NS" -v b="$now" 'BEGIN { printf "%.1f", (b - a) / 1e9 }'
}

pom_hash() { sha256sum "$HERE/pom.xml" | cut -d' ' -f1; }

kafka_java() {  # kafka_java MAIN_CLASS ARGS... (foreground)
    # shellcheck disable=SC2086  # HEAP_OPTS holds several options
    java $HEAP_OPTS -cp "$LIB/*" \
        -Dlog4j2.configurationFile="$DIR/log4j2.properties" \
        -Dkafka.logs.dir="$DIR" \
        "$@"
}

parse_opts() {
    PORT="${KAFKA_PORT:-9092}"
    DIR="${KAFKA_DIR:-}"
    while [ $# -gt 0 ]; do
        case "$1" in
            --port) [ $# -ge 2 ] || usage; PORT="$2"; shift 2 ;;
            --port=*) PORT="${1#--port=}"; shift ;;
            --dir) [ $# -ge 2 ] || usage; DIR="$2"; shift 2 ;;
            --dir=*) DIR="${1#--dir=}"; shift ;;
            -h|--help) usage ;;
            *) log "unknown option: $1"; usage ;;
        esac
    done
    case "$PORT" in ''|*[!0-9]*) die "--port must be a number, got '$PORT'" ;; esac
    [ -n "$DIR" ] || DIR="$HERE/data/$PORT"
    case "$DIR" in /*) ;; *) DIR="$PWD/$DIR" ;; esac
}

# ------------------------------------------------------------------ fetch --

cmd_fetch() {
    local want tmp
    want="$(pom_hash)"
    if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ]; then
        return 0
    fi
    # Serialise concurrent fetches (e.g. parallel test runs) on a lock of the pom.
    if command -v flock >/dev/null 2>&1; then
        exec 9<"$HERE/pom.xml"
        flock 9
        if [ -f "$MARKER" ] && [ "$(cat "$MARKER")" = "$want" ]; then
            exec 9<&-
            return 0
        fi
    fi
    command -v mvn >/dev/null 2>&1 || die "mvn not found (needed once, to fetch the broker jars)"
    log "fetching Kafka jars from Maven Central into $LIB ..."
    # Resolve into a temporary dir and swap it in, so an interrupted fetch
    # never leaves a half-filled lib/ that looks complete.
    tmp="$HERE/.lib.tmp.$$"
    rm -rf "$tmp"
    # shellcheck disable=SC2064  # expand $tmp now: it is local
    trap "rm -rf '$tmp'" EXIT
    mkdir -p "$tmp"
    if ! mvn -q -B -f "$HERE/pom.xml" dependency:copy-dependencies \
            -Dkafka.lib.dir="$tmp" >"$tmp/.mvn.log" 2>&1; then
        cat "$tmp/.mvn.log" >&2
        die "mvn dependency:copy-dependencies failed"
    fi
    ls "$tmp"/kafka_2.13-*.jar >/dev/null 2>&1 || die "broker jar missing after mvn run"
    printf '%s\n' "$want" >"$tmp/.fetched"
    rm -rf "$LIB"
    mv "$tmp" "$LIB"
    trap - EXIT
    exec 9<&-
    log "fetched $(find "$LIB" -name '*.jar' | wc -l) jars in $(elapsed)s"
}

# ------------------------------------------------------------------ start --

write_configs() {  # write_configs CONTROLLER_PORT
    local cport="$1"
    cat >"$DIR/server.properties" <<EOF
# generated by deploy/kafka/kafka.sh -- rewritten on every start
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$PORT,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$DIR/logs
num.partitions=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
# After a crash (SIGKILL) the restarted broker cannot register until the old
# registration's session expires: 9 s by default, 4 s here (not much lower:
# a starved JVM on a busy CI box could then fence its own broker).
broker.session.timeout.ms=4000
broker.heartbeat.interval.ms=1000
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
    cat >"$DIR/log4j2.properties" <<'EOF'
# generated by deploy/kafka/kafka.sh -- everything goes to stdout (server.log)
status = warn
# the Console appender flushes every line; no hook needed (and none possible
# for contexts created while the JVM shuts down)
shutdownHook = disable
appender.stdout.type = Console
appender.stdout.name = STDOUT
appender.stdout.layout.type = PatternLayout
appender.stdout.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = INFO
rootLogger.appenderRef.stdout.ref = STDOUT
logger.kafka.name = kafka
logger.kafka.level = INFO
logger.apache.name = org.apache.kafka
logger.apache.level = INFO
logger.request.name = kafka.request.logger
logger.request.level = WARN
logger.authorizer.name = kafka.authorizer.logger
logger.authorizer.level = WARN
EOF
}

# Pick the controller port: keep the previous one if it is still free.
controller_port() {
    local cport=""
    if [ -f "$DIR/controller.port" ]; then
        cport="$(cat "$DIR/controller.port")"
        if [ "$cport" = "$PORT" ] || port_open "$cport"; then cport=""; fi
    fi
    while [ -z "$cport" ] || [ "$cport" = "$PORT" ]; do cport="$(free_port)"; done
    printf '%s\n' "$cport" >"$DIR/controller.port"
    printf '%s\n' "$cport"
}

format_storage() {
    if [ -f "$DIR/logs/meta.properties" ]; then
        return 0
    fi
    local cluster_id
    cluster_id="$(kafka_java kafka.tools.StorageTool random-uuid 2>>"$DIR/format.log" | tail -n 1)" \
        || cluster_id=""
    if [ -z "$cluster_id" ]; then
        tail -n 20 "$DIR/format.log" >&2 || true
        die "could not generate a cluster id with kafka.tools.StorageTool (see $DIR/format.log)"
    fi
    log "formatting KRaft storage in $DIR/logs (cluster id $cluster_id)"
    kafka_java kafka.tools.StorageTool format --ignore-formatted \
        --cluster-id "$cluster_id" --config "$DIR/server.properties" >>"$DIR/format.log" 2>&1 \
        || { tail -n 30 "$DIR/format.log" >&2; die "kafka-storage format failed"; }
}

# Ready = the broker answers a Metadata request from kafka-python.  Without
# kafka-python we fall back to "log says started + TCP port open".
probe_ready() {
    grep -q 'Kafka Server started' "$DIR/server.log" 2>/dev/null || return 1
    port_open "$PORT" || return 1
    [ -n "$PYTHON" ] || return 0
    "$PYTHON" - "$PORT" >/dev/null 2>&1 <<'EOF'
import sys
from kafka import KafkaAdminClient
admin = KafkaAdminClient(bootstrap_servers="127.0.0.1:" + sys.argv[1],
                         bootstrap_timeout_ms=5000, request_timeout_ms=5000)
try:
    admin.describe_cluster()
finally:
    admin.close()
EOF
}

wait_ready() {  # wait_ready PID [kill]: with "kill", SIGKILL the broker on timeout
    local pid="$1" on_timeout="${2:-}" deadline=$((SECONDS + START_TIMEOUT))
    PYTHON="$(find_python)"
    until probe_ready; do
        if ! is_kafka_pid "$pid"; then
            log "broker process $pid exited during startup; last lines of $DIR/server.log:"
            tail -n 40 "$DIR/server.log" >&2 || true
            rm -f "$DIR/kafka.pid"
            exit 1
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "broker did not become ready within ${START_TIMEOUT}s; last lines of $DIR/server.log:"
            tail -n 40 "$DIR/server.log" >&2 || true
            if [ "$on_timeout" = kill ]; then
                log "killing the half-started broker (pid $pid)"
                kill -KILL "$pid" 2>/dev/null || true
                rm -f "$DIR/kafka.pid"
            fi
            exit 1
        fi
        sleep 0.25
    done
}

cmd_start() {
    parse_opts "$@"
    local pid cport
    mkdir -p "$DIR"
    pid="$(read_pid)"
    if is_kafka_pid "$pid"; then
        if [ "$(cat "$DIR/port" 2>/dev/null)" != "$PORT" ]; then
            die "a broker from $DIR is already running (pid $pid) on another port: $(cat "$DIR/port" 2>/dev/null)"
        fi
        wait_ready "$pid"
        log "already running (pid $pid) on 127.0.0.1:$PORT"
        return 0
    fi
    rm -f "$DIR/kafka.pid"
    wait_port_free || die "port $PORT is already in use by another process"

    cmd_fetch
    command -v java >/dev/null 2>&1 || die "java not found (Java 17+ is needed)"
    cport="$(controller_port)"
    write_configs "$cport"
    format_storage

    log "starting broker on 127.0.0.1:$PORT (controller $cport), dir $DIR"
    # Keep the previous run's log next to the new one.
    if [ -f "$DIR/server.log" ]; then mv -f "$DIR/server.log" "$DIR/server.log.1"; fi
    # shellcheck disable=SC2086  # HEAP_OPTS holds several options
    nohup java $HEAP_OPTS -server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 \
        -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true \
        -Dlog4j2.configurationFile="$DIR/log4j2.properties" \
        -Dkafka.logs.dir="$DIR" \
        -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" \
        </dev/null >"$DIR/server.log" 2>&1 &
    pid=$!
    disown "$pid" 2>/dev/null || true   # no "Killed" job notice if it dies while we wait
    printf '%s\n' "$pid" >"$DIR/kafka.pid"
    printf '%s\n' "$PORT" >"$DIR/port"

    wait_ready "$pid" kill
    log "started (pid $pid) in $(elapsed)s: bootstrap 127.0.0.1:$PORT"
}

# ------------------------------------------------------------------- stop --

cmd_stop() {
    parse_opts "$@"
    local pid deadline
    pid="$(read_pid)"
    if ! is_kafka_pid "$pid"; then
        rm -f "$DIR/kafka.pid"
        log "not running (port $PORT, dir $DIR)"
        return 0
    fi
    log "stopping broker (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while is_kafka_pid "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
        sleep 0.2
    done
    if is_kafka_pid "$pid"; then
        log "still alive after ${STOP_TIMEOUT}s, sending SIGKILL"
        kill -KILL "$pid" 2>/dev/null || true
        while is_kafka_pid "$pid"; do sleep 0.1; done
    fi
    rm -f "$DIR/kafka.pid"
    log "stopped in $(elapsed)s"
}

# ----------------------------------------------------------------- status --

cmd_status() {
    parse_opts "$@"
    local pid
    pid="$(read_pid)"
    if is_kafka_pid "$pid"; then
        echo "running: pid $pid, bootstrap 127.0.0.1:$PORT, dir $DIR"
        return 0
    fi
    echo "stopped: port $PORT, dir $DIR"
    return 3
}

# ------------------------------------------------------------------- main --

START_NS="$(date +%s%N)"
[ $# -ge 1 ] || usage
cmd="$1"
shift
case "$cmd" in
    fetch)  [ $# -eq 0 ] || usage; cmd_fetch; log "jars ready in $LIB" ;;
    start)  cmd_start "$@" ;;
    stop)   cmd_stop "$@" ;;
    status) cmd_status "$@" ;;
    -h|--help|help) usage ;;
    *) log "unknown command: $cmd"; usage ;;
esac
