#!/usr/bin/env bash
# A throwaway local cluster for bip's tests and for trying `bip sweep --slurm` on one machine.
#
#   scripts/local-cluster.sh start   # starts everything below; the LAST line printed is the PostgreSQL URL
#   scripts/local-cluster.sh stop    # stops exactly what start started and removes its directory
#   scripts/local-cluster.sh restart-postgres   # restarts the PostgreSQL server (same port and data),
#                                    # as a server restarted under running workers (tests)
#
# `start` makes, in one directory ($BIP_CLUSTER_DIR, default /tmp/bip-local-cluster):
#   - a PostgreSQL 15 server: a fresh cluster made with initdb (owned by the `postgres` user, since
#     PostgreSQL refuses to run as root), listening on a free loopback port of 127.0.0.1 with trust
#     authentication; its URL is postgres://postgres@127.0.0.1:PORT/postgres;
#   - a one-node Slurm cluster: munged (a new key, its own socket), slurmctld and slurmd on 127.0.0.1
#     (free ports), from a generated slurm.conf: one node with this machine's CPUs and memory, one
#     default partition `local`, proctrack/linuxproc, task/none, select/cons_tres with CR_CPU_Memory
#     so that the tasks of a job array share the node. No accounting (slurmdbd): sacct does not work.
#     The Slurm commands find it through /etc/slurm/slurm.conf, a link made when that file does not
#     exist (else set SLURM_CONF=$BIP_CLUSTER_DIR/slurm.conf).
# It waits until the node is idle and PostgreSQL accepts connections, and records what it started in
# $BIP_CLUSTER_DIR/state. Both commands are idempotent: `start` on a running cluster prints the URL
# again; `stop` on a stopped one does nothing. Needs root, the Debian packages postgresql (15),
# slurm-wlm and munge.
set -euo pipefail

DIR="${BIP_CLUSTER_DIR:-/tmp/bip-local-cluster}"
STATE="$DIR/state"
PG_BIN="${PG_BIN:-/usr/lib/postgresql/15/bin}"
SYSTEM_CONF=/etc/slurm/slurm.conf

say() { echo "local-cluster: $*" >&2; }
die() { say "error: $*"; exit 1; }

# A TCP port on 127.0.0.1 that nothing listens on.
free_port() {
    local port
    for _ in $(seq 200); do
        port=$((20000 + RANDOM % 40000))
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
    die "no free port found"
}

alive() { [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null; }

# Waits up to $1 seconds for the command after it to succeed.
wait_for() {
    local seconds=$1
    shift
    for _ in $(seq $((seconds * 5))); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    return 1
}

node_idle() { [[ "$(sinfo -h -N -o %t 2>/dev/null)" == idle ]]; }

as_postgres() { runuser -u postgres -- "$@"; }

# Stops the process of a pid file's pid: TERM, then KILL after 15 seconds.
stop_pid() {
    local name=$1 pid=${2:-}
    alive "$pid" || return 0
    kill -TERM "$pid" 2>/dev/null || true
    if ! wait_for 15 bash -c "! kill -0 $pid"; then
        say "$name ($pid) did not stop on SIGTERM; killing it"
        kill -KILL "$pid" 2>/dev/null || true
    fi
}

read_pid() { if [[ -s "$1" ]]; then head -1 "$1"; fi; }

# Records KEY=VALUE in the state file, for stop.
record() { echo "$1=$2" >>"$STATE"; }

stop() {
    if [[ ! -d "$DIR" ]]; then
        say "not running"
        return
    fi
    if [[ -f "$STATE" ]]; then
        # shellcheck source=/dev/null
        source "$STATE"
    fi
    export SLURM_CONF="$DIR/slurm.conf"
    if alive "${SLURMCTLD_PID:-}"; then
        scancel --partition=local >/dev/null 2>&1 || true
        wait_for 20 bash -c '[[ -z "$(squeue -h -t R,CG 2>/dev/null)" ]]' || say "jobs still running; stopping anyway"
    fi
    stop_pid slurmd "${SLURMD_PID:-}"
    stop_pid slurmctld "${SLURMCTLD_PID:-}"
    stop_pid munged "${MUNGED_PID:-}"
    if alive "${POSTGRES_PID:-}"; then
        as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w stop >/dev/null 2>&1 || stop_pid postgres "$POSTGRES_PID"
    fi
    if [[ -L "$SYSTEM_CONF" && "$(readlink "$SYSTEM_CONF")" == "$DIR/slurm.conf" ]]; then rm -f "$SYSTEM_CONF"; fi
    rm -rf "$DIR"
    say "stopped"
}

running() {
    [[ -f "$STATE" ]] || return 1
    # shellcheck source=/dev/null
    source "$STATE"
    export SLURM_CONF="$DIR/slurm.conf"
    alive "${POSTGRES_PID:-}" && alive "${MUNGED_PID:-}" && alive "${SLURMCTLD_PID:-}" && alive "${SLURMD_PID:-}" \
        && "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && node_idle_or_busy
}

node_idle_or_busy() { [[ "$(sinfo -h -N -o %t 2>/dev/null)" =~ ^(idle|mix|alloc)$ ]]; }

start_postgres() {
    PG_PORT=$(free_port)
    mkdir -p "$DIR/pg" "$DIR/pg-socket"
    chown postgres: "$DIR/pg" "$DIR/pg-socket"
    chmod 700 "$DIR/pg"
    as_postgres "$PG_BIN/initdb" -D "$DIR/pg" --auth=trust --username=postgres --encoding=UTF8 --no-sync >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -l "$DIR/pg/postgres.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -c unix_socket_directories=$DIR/pg-socket -c fsync=off" start >/dev/null \
        || { cat "$DIR/pg/postgres.log" >&2; die "PostgreSQL did not start"; }
    record POSTGRES_PID "$(read_pid "$DIR/pg/postmaster.pid")"
    record PG_PORT "$PG_PORT"
    wait_for 30 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL does not accept connections on port $PG_PORT"
}

start_munge() {
    mkdir -p "$DIR/munge"
    chmod 755 "$DIR/munge"
    dd if=/dev/urandom of="$DIR/munge/munge.key" bs=1024 count=1 status=none
    chmod 400 "$DIR/munge/munge.key"
    munged --key-file="$DIR/munge/munge.key" --socket="$DIR/munge/munge.socket" \
        --pid-file="$DIR/munge/munged.pid" --log-file="$DIR/munge/munged.log" --seed-file="$DIR/munge/munged.seed" \
        || { cat "$DIR/munge/munged.log" >&2 || true; die "munged did not start"; }
    record MUNGED_PID "$(read_pid "$DIR/munge/munged.pid")"
    wait_for 10 test -S "$DIR/munge/munge.socket" || die "munged made no socket"
}

write_slurm_conf() {
    local cpus memory
    cpus=$(getconf _NPROCESSORS_ONLN)
    memory=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
    SLURMCTLD_PORT=$(free_port)
    SLURMD_PORT=$(free_port)
    NODE=$(hostname -s)
    mkdir -p "$DIR/state-save" "$DIR/spool"
    cat >"$DIR/slurm.conf" <<EOF
# Generated by scripts/local-cluster.sh: a one-node cluster on 127.0.0.1.
ClusterName=bip-local
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$SLURMCTLD_PORT
SlurmdPort=$SLURMD_PORT
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$DIR/munge/munge.socket
StateSaveLocation=$DIR/state-save
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/slurmctld.log
SlurmdLogFile=$DIR/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=$((memory / cpus))
MpiDefault=none
MailProg=/bin/true
SwitchType=switch/none
SchedulerType=sched/backfill
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/none
ReturnToService=2
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=10
InactiveLimit=0
KillWait=5
MinJobAge=300
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
}

start_slurm() {
    write_slurm_conf
    export SLURM_CONF="$DIR/slurm.conf"
    record NODE "$NODE"
    record SLURMCTLD_PORT "$SLURMCTLD_PORT"
    record SLURMD_PORT "$SLURMD_PORT"
    slurmctld -f "$SLURM_CONF" -c || die "slurmctld did not start (see $DIR/slurmctld.log)"
    wait_for 10 test -s "$DIR/slurmctld.pid" || die "slurmctld wrote no pid file (see $DIR/slurmctld.log)"
    record SLURMCTLD_PID "$(read_pid "$DIR/slurmctld.pid")"
    slurmd -f "$SLURM_CONF" -N "$NODE" || die "slurmd did not start (see $DIR/slurmd.log)"
    wait_for 10 test -s "$DIR/slurmd.pid" || die "slurmd wrote no pid file (see $DIR/slurmd.log)"
    record SLURMD_PID "$(read_pid "$DIR/slurmd.pid")"
    if [[ ! -e "$SYSTEM_CONF" || -L "$SYSTEM_CONF" && ! -e "$(readlink "$SYSTEM_CONF")" ]]; then
        mkdir -p "$(dirname "$SYSTEM_CONF")"
        ln -sfn "$DIR/slurm.conf" "$SYSTEM_CONF"
    elif [[ "$(readlink "$SYSTEM_CONF" || true)" != "$DIR/slurm.conf" ]]; then
        say "note: $SYSTEM_CONF exists; use this cluster with SLURM_CONF=$DIR/slurm.conf"
    fi
    if ! wait_for 60 node_idle; then
        tail -20 "$DIR/slurmctld.log" "$DIR/slurmd.log" >&2 || true
        die "the Slurm node is not idle: $(sinfo -h -N -o '%t %E' 2>&1 || true)"
    fi
}

start() {
    [[ $EUID -eq 0 ]] || die "run as root (slurmd runs jobs as their users; PostgreSQL runs as postgres)"
    [[ -x "$PG_BIN/initdb" ]] || die "no PostgreSQL 15 in $PG_BIN (apt-get install postgresql)"
    for command in munged slurmctld slurmd sinfo runuser; do
        command -v "$command" >/dev/null || die "$command not found (apt-get install slurm-wlm munge)"
    done
    if running; then
        say "already running (state in $STATE)"
        echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
        return
    fi
    if [[ -e "$DIR" ]]; then
        say "a partial cluster in $DIR: stopping it first"
        stop
    fi
    mkdir -p "$DIR"
    chmod 755 "$DIR"
    : >"$STATE"
    trap 'status=$?; if [[ $status -ne 0 ]]; then say "start failed; stopping what it started"; stop; fi' EXIT
    start_postgres
    start_munge
    start_slurm
    trap - EXIT
    say "PostgreSQL on 127.0.0.1:$PG_PORT; Slurm node $NODE idle (slurmctld port $SLURMCTLD_PORT); state in $STATE"
    echo "postgres://postgres@127.0.0.1:$PG_PORT/postgres"
}

restart_postgres() {
    running || die "not running (scripts/local-cluster.sh start)"
    # The server must not inherit this script's other descriptors: a caller that waits for them
    # to close (as Foundation's Process does, to see the script end) would wait for the server.
    local fd
    for fd in /proc/$$/fd/*; do
        fd=${fd##*/}
        if [[ "$fd" -gt 2 ]]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    as_postgres "$PG_BIN/pg_ctl" -D "$DIR/pg" -m fast -w -t 60 restart >/dev/null || die "PostgreSQL did not restart"
    sed -i '/^POSTGRES_PID=/d' "$STATE"
    record POSTGRES_PID "$(read_pid "$DIR/pg/postmaster.pid")"
    wait_for 30 "$PG_BIN/pg_isready" -h 127.0.0.1 -p "$PG_PORT" || die "PostgreSQL does not accept connections on port $PG_PORT"
    say "PostgreSQL restarted on 127.0.0.1:$PG_PORT"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    restart-postgres) restart_postgres ;;
    *) echo "usage: $0 start|stop|restart-postgres" >&2; exit 2 ;;
esac
