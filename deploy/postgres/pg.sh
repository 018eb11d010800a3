#!/usr/bin/env bash
# deploy/postgres/pg.sh -- a private PostgreSQL server for journey's tests and local use.
#
# Usage:
#   deploy/postgres/pg.sh install
#   deploy/postgres/pg.sh start  [--port N] [--dir DIR] [--fast]
#   deploy/postgres/pg.sh stop   [--port N] [--dir DIR]
#   deploy/postgres/pg.sh status [--port N] [--dir DIR]
#   deploy/postgres/pg.sh url    [--port N]
#
# Environment overrides: PGPORT_JOURNEY (default 5433), PGDIR_JOURNEY
# (default deploy/postgres/data/<port>), PG_BINDIR (directory holding pg_ctl/initdb).
#
# Every subcommand is idempotent. Diagnostics go to stderr; `start` and `url`
# print only the connection URL on stdout, so `URL=$(pg.sh start)` works.
#
# Layout of DIR (owned by the OS user `postgres`, mode 0700):
#   DIR/pgdata/          the cluster (initdb), incl. journey.conf (rewritten on each start)
#   DIR/socket/          unix socket directory
#   DIR/postgresql.log   server log (pg_ctl -l)
set -euo pipefail
umask 022

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)"
OS_USER=postgres
DB_ROLE=journey
DB_PASSWORD=journey
DB_NAME=journey

PORT="${PGPORT_JOURNEY:-5433}"
DIR_REQUESTED="${PGDIR_JOURNEY:-}"
FAST=0

log() { printf 'pg.sh: %s\n' "$*" >&2; }
die() { printf 'pg.sh: ERROR: %s\n' "$*" >&2; exit 1; }

usage() {
    sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# ---------------------------------------------------------------- binaries ---

find_bindir() {
    if [[ -n "${PG_BINDIR:-}" && -x "${PG_BINDIR}/pg_ctl" && -x "${PG_BINDIR}/initdb" ]]; then
        printf '%s\n' "$PG_BINDIR"
        return 0
    fi
    local d
    # Debian/Ubuntu layout; newest major version first.
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        if [[ -x "$d/pg_ctl" && -x "$d/initdb" ]]; then
            printf '%s\n' "$d"
            return 0
        fi
    done
    # Other layouts (e.g. PATH already contains the server binaries).
    local p
    if p="$(command -v pg_ctl 2>/dev/null)" && [[ -x "$(dirname "$p")/initdb" ]]; then
        dirname "$p"
        return 0
    fi
    return 1
}

cmd_install() {
    local bindir
    if bindir="$(find_bindir)"; then
        log "PostgreSQL server binaries found in $bindir"
        return 0
    fi
    log "no PostgreSQL server binaries found; installing the Debian 'postgresql' package"
    local -a sudo=()
    if ! is_root; then
        command -v sudo >/dev/null 2>&1 || die "not root and sudo is unavailable: install 'postgresql' manually"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql >&2
    bindir="$(find_bindir)" || die "apt-get install postgresql succeeded but pg_ctl/initdb are still missing"
    log "installed PostgreSQL server binaries in $bindir"
}

# ---------------------------------------------------------------- OS user ---

ensure_os_user() {
    is_root || return 0 # not root: the server simply runs as the invoking user
    if ! id -u "$OS_USER" >/dev/null 2>&1; then
        log "creating system user '$OS_USER'"
        local shell=/usr/sbin/nologin
        [[ -x "$shell" ]] || shell=/bin/false
        useradd --system --user-group --no-create-home \
            --home-dir /var/lib/postgresql --shell "$shell" "$OS_USER"
    fi
}

# Run a command as the server's OS user (initdb/pg_ctl refuse to run as root).
# `cd /` avoids "could not change directory" errors when the caller's cwd is
# not accessible to that user. `9>&-` keeps the lock fd (see take_lock) out of
# child processes: otherwise the postmaster would inherit it and hold the lock
# for as long as the server runs.
as_pg() {
    if is_root; then
        (cd / && runuser -u "$OS_USER" -- "$@") 9>&-
    else
        (cd / && "$@") 9>&-
    fi
}

# ---------------------------------------------------------------- dirs -------

fallback_dir() { printf '/var/tmp/journey-postgres/%s\n' "$PORT"; }

requested_dir() {
    local d="${DIR_REQUESTED:-$SCRIPT_DIR/data/$PORT}"
    # make absolute without requiring existence
    [[ "$d" = /* ]] || d="$PWD/$d"
    printf '%s\n' "$d"
}

# unix socket paths are limited to 107 bytes (sun_path)
socket_path_ok() {
    local sock="$1/socket/.s.PGSQL.$PORT"
    ((${#sock} <= 100))
}

# Can the server's OS user traverse to (and own) DIR? Creates and chowns DIR on success.
prepare_dir() {
    local dir="$1" anc
    socket_path_ok "$dir" || {
        log "$dir is too long for a unix socket path"
        return 1
    }
    anc="$dir"
    while [[ ! -e "$anc" ]]; do anc="$(dirname "$anc")"; done
    [[ -d "$anc" ]] || return 1
    if [[ "$anc" == "$dir" ]]; then
        # existing DIR: its parent must be traversable; DIR itself gets chowned below.
        as_pg test -x "$(dirname "$dir")" || return 1
    else
        as_pg test -x "$anc" || return 1
    fi
    mkdir -p "$dir" 2>/dev/null || return 1
    if is_root; then
        chown "$OS_USER:" "$dir" || return 1
    fi
    chmod 0700 "$dir" || return 1
    as_pg test -w "$dir" -a -x "$dir" || return 1
    mkdir -p "$dir/socket" && chmod 0700 "$dir/socket"
    is_root && chown "$OS_USER:" "$dir/socket"
    return 0
}

# Directory for `start`: the requested one if usable by the server user, else a fallback.
choose_dir_for_start() {
    local req fb
    req="$(requested_dir)"
    if prepare_dir "$req"; then
        printf '%s\n' "$req"
        return 0
    fi
    fb="$(fallback_dir)"
    log "NOTE: $req is not usable by OS user '$OS_USER' (not traversable/writable);"
    log "      falling back to $fb"
    prepare_dir "$fb" || die "fallback directory $fb is not usable by '$OS_USER' either"
    printf '%s\n' "$fb"
}

# Directory for stop/status: wherever a cluster exists (requested first), else requested.
resolve_existing_dir() {
    local req fb
    req="$(requested_dir)"
    fb="$(fallback_dir)"
    if [[ -f "$req/pgdata/PG_VERSION" ]]; then
        printf '%s\n' "$req"
    elif [[ -f "$fb/pgdata/PG_VERSION" ]]; then
        printf '%s\n' "$fb"
    else
        printf '%s\n' "$req"
    fi
}

url() { printf 'postgresql://%s:%s@127.0.0.1:%s/%s\n' "$DB_ROLE" "$DB_PASSWORD" "$PORT" "$DB_NAME"; }

# Serialise concurrent start/stop for the same port (e.g. parallel pytest sessions).
take_lock() {
    local lock="${TMPDIR:-/tmp}/journey-pg-$PORT.lock"
    # (the group confines 2>/dev/null to the exec; a bare `exec 9>>f 2>/dev/null` would
    # silence the rest of the script)
    if { exec 9>>"$lock"; } 2>/dev/null; then
        flock -w 300 9 || die "timed out waiting for lock $lock"
    else
        log "WARNING: cannot open lock file $lock; continuing without locking"
    fi
}

is_running() { # $1 = pgdata
    [[ -f "$1/PG_VERSION" ]] && as_pg "$BINDIR/pg_ctl" status -D "$1" >/dev/null 2>&1
}

# ---------------------------------------------------------------- start ------

write_conf() { # $1 = DIR
    local dir="$1" pgdata="$1/pgdata" onoff=on
    ((FAST)) && onoff=off
    cat >"$pgdata/journey.conf" <<EOF
# Managed by deploy/postgres/pg.sh -- rewritten on every start; do not edit.
listen_addresses = '127.0.0.1'
port = $PORT
unix_socket_directories = '$dir/socket'
unix_socket_permissions = 0700
max_connections = 200
shared_buffers = 128MB
timezone = 'UTC'
# Test tuning: no replication/archiving, fewer checkpoints, no JIT/parallelism
# (short queries; avoids /dev/shm exhaustion in small containers).
wal_level = minimal
max_wal_senders = 0
archive_mode = off
max_wal_size = 1GB
checkpoint_timeout = 30min
jit = off
max_parallel_workers_per_gather = 0
# Durability: 'on' by default; 'off' only with --fast (data may be lost on a crash).
fsync = $onoff
synchronous_commit = $onoff
full_page_writes = $onoff
# Logging
log_line_prefix = '%m [%p] %q%u@%d '
log_min_messages = warning
log_min_error_statement = error
EOF
    is_root && chown "$OS_USER:" "$pgdata/journey.conf"
    chmod 0600 "$pgdata/journey.conf"
    if ! grep -q "^include_if_exists = 'journey.conf'" "$pgdata/postgresql.conf"; then
        printf "\n# journey: settings managed by deploy/postgres/pg.sh\ninclude_if_exists = 'journey.conf'\n" \
            >>"$pgdata/postgresql.conf"
    fi
}

provision() { # $1 = DIR: role + database, via the unix socket as the bootstrap superuser
    local dir="$1"
    as_pg "$BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$dir/socket" -p "$PORT" -U postgres -d postgres <<EOF >/dev/null
SELECT format('CREATE ROLE %I LOGIN SUPERUSER PASSWORD %L', '$DB_ROLE', '$DB_PASSWORD')
 WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$DB_ROLE') \\gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$DB_NAME', '$DB_ROLE')
 WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB_NAME') \\gexec
EOF
}

cmd_start() {
    cmd_install
    BINDIR="$(find_bindir)"
    ensure_os_user
    take_lock
    local dir pgdata
    dir="$(choose_dir_for_start)"
    pgdata="$dir/pgdata"

    if is_running "$pgdata"; then
        log "already running (data: $pgdata); --fast/durability settings unchanged"
        url
        return 0
    fi

    if [[ ! -f "$pgdata/PG_VERSION" ]]; then
        if [[ -e "$pgdata" ]]; then
            log "removing incomplete cluster directory $pgdata (no PG_VERSION)"
            rm -rf -- "$pgdata"
        fi
        log "initdb $pgdata"
        local -a extra=()
        ((FAST)) && extra+=(--no-sync)
        as_pg "$BINDIR/initdb" -D "$pgdata" --username=postgres \
            --auth-local=trust --auth-host=scram-sha-256 \
            --encoding=UTF8 --locale=C "${extra[@]}" >"$dir/initdb.log" 2>&1 || {
            cat "$dir/initdb.log" >&2
            die "initdb failed"
        }
    fi

    write_conf "$dir"
    log "starting server on 127.0.0.1:$PORT (data: $pgdata, fast=$FAST, log: $dir/postgresql.log)"
    if ! as_pg "$BINDIR/pg_ctl" start -D "$pgdata" -l "$dir/postgresql.log" -w -t 60 >/dev/null; then
        tail -n 30 "$dir/postgresql.log" >&2 || true
        die "pg_ctl start failed (is port $PORT already in use by another server?)"
    fi

    local i
    for ((i = 0; i < 60; i++)); do
        if "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 1; then break; fi
        sleep 0.5
    done
    "$BINDIR/pg_isready" -q -h 127.0.0.1 -p "$PORT" -t 1 || die "server did not become ready on port $PORT"

    provision "$dir"
    # sanity: password login over TCP, exactly as clients will connect
    PGCONNECT_TIMEOUT=10 as_pg "$BINDIR/psql" -X -q -At -c 'SELECT 1' "$(url)" >/dev/null ||
        die "server is up but password login as '$DB_ROLE' over TCP failed"
    log "ready"
    url
}

# ---------------------------------------------------------------- other ------

cmd_stop() {
    BINDIR="$(find_bindir)" || { log "PostgreSQL not installed; nothing to stop"; return 0; }
    take_lock
    local dir pgdata
    dir="$(resolve_existing_dir)"
    pgdata="$dir/pgdata"
    if [[ ! -f "$pgdata/PG_VERSION" ]]; then
        log "no cluster at $pgdata; nothing to stop"
    elif is_running "$pgdata"; then
        as_pg "$BINDIR/pg_ctl" stop -D "$pgdata" -m fast -w -t 60 >/dev/null
        log "stopped (data: $pgdata)"
    else
        log "not running (data: $pgdata)"
    fi
}

cmd_status() {
    local dir pgdata
    dir="$(resolve_existing_dir)"
    pgdata="$dir/pgdata"
    echo "port:  $PORT"
    echo "data:  $pgdata"
    echo "url:   $(url)"
    if ! BINDIR="$(find_bindir)"; then
        echo "state: not installed"
        return 3
    fi
    if [[ ! -f "$pgdata/PG_VERSION" ]]; then
        echo "state: not initialised"
        return 3
    fi
    if is_running "$pgdata"; then
        echo "state: running"
        return 0
    fi
    echo "state: stopped"
    return 3
}

# ---------------------------------------------------------------- main -------

main() {
    [[ $# -ge 1 ]] || { usage >&2; exit 2; }
    local cmd="$1"
    shift
    while [[ $# -gt 0 ]]; do
        case "$1" in
        --port) [[ $# -ge 2 ]] || die "--port needs a value"; PORT="$2"; shift 2 ;;
        --port=*) PORT="${1#*=}"; shift ;;
        --dir) [[ $# -ge 2 ]] || die "--dir needs a value"; DIR_REQUESTED="$2"; shift 2 ;;
        --dir=*) DIR_REQUESTED="${1#*=}"; shift ;;
        --fast) FAST=1; shift ;;
        -h | --help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
        esac
    done
    [[ "$PORT" =~ ^[0-9]+$ ]] && ((PORT >= 1 && PORT <= 65535)) || die "invalid port: $PORT"

    case "$cmd" in
    install) cmd_install ;;
    start) cmd_start ;;
    stop) cmd_stop ;;
    status) cmd_status ;;
    url) url ;;
    -h | --help | help) usage ;;
    *) usage >&2; die "unknown command: $cmd" ;;
    esac
}

main "$@"
