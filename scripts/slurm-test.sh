#!/usr/bin/env bash
# Slurm integration test of `xbar sweep` (docs/sweep.md, "Clusters"): installs Debian's slurm-wlm and munge when
# missing, starts a private single-node Slurm on this machine (munged, slurmctld, slurmd, all traffic on 127.0.0.1),
# submits the example sweep as a job array, merges the shards and checks that the merged file equals the same sweep
# run locally, point for point and byte for byte (wall-clock field left out). Stops the daemons it started, by PID.
#
# Exit status: 0 = passed, or skipped for a reason outside the project (not root, no apt, packages cannot be
# installed, daemons do not come up, the job never starts); 1 = a real failure (a task failed, merge refused,
# results differ). Every wait is bounded. Each run uses a fresh folder and fresh ports, so it can be repeated.
#
# Environment: XBAR (the xbar binary; default: `swift build --product xbar` then its path), SPEC (default
# examples/sweep/adc-sharing.toml), SHARDS (default 3), SLURM_TEST_KEEP=1 keeps the work folder.
set -uo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
SPEC=${SPEC:-examples/sweep/adc-sharing.toml}
SHARDS=${SHARDS:-3}
T0=$(date +%s)
say() { echo "slurm-test: $*" >&2; }
elapsed() { echo "$(( $(date +%s) - T0 ))s"; }
skip() { say "SKIPPED: $* ($(elapsed))"; exit 0; }
fail() { say "FAILED: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || skip "needs root to start slurmctld/slurmd"
command -v apt-get >/dev/null || skip "no apt-get"

# 1. Packages.
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null || ! command -v sbatch >/dev/null; then
    say "installing slurm-wlm munge"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq slurm-wlm munge) >/tmp/slurm-test-apt.log 2>&1 \
        || skip "cannot install slurm-wlm/munge (see /tmp/slurm-test-apt.log)"
fi
for b in slurmctld slurmd munged sbatch sinfo squeue scancel; do command -v $b >/dev/null || skip "$b missing after install"; done

# 2. The xbar binary (CI has built it with ./test; this is then a no-op).
if [ -z "${XBAR:-}" ]; then
    source scripts/setup.sh
    set +e  # setup.sh turns errexit on; this script handles every failure itself
    timeout 1800 swift build --product xbar >&2 || fail "swift build --product xbar failed"
    XBAR="$(swift build --show-bin-path)/xbar"
fi
[ -x "$XBAR" ] || fail "no xbar binary at $XBAR"
"$XBAR" sweep plan "$SPEC" >/dev/null || fail "the example spec $SPEC is refused"

# 3. A private cluster in a fresh folder.
WORK=$(mktemp -d /tmp/xbar-slurm-test.XXXXXX)
chmod 755 "$WORK"
PIDS=()
JOBID=""
cleanup() {
    [ -n "$JOBID" ] && timeout 20 scancel "$JOBID" >/dev/null 2>&1
    # Stop the daemons this script started, newest first, by PID: TERM, then KILL after 15 s.
    for ((i = ${#PIDS[@]} - 1; i >= 0; i--)); do
        local p=${PIDS[$i]}
        kill -0 "$p" 2>/dev/null || continue
        kill -TERM "$p" 2>/dev/null
        for _ in $(seq 1 30); do kill -0 "$p" 2>/dev/null || break; sleep 0.5; done
        kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null
    done
    if [ "${SLURM_TEST_KEEP:-0}" = 1 ]; then say "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM

NODE=$(hostname -s)
PORT=$(( 20000 + ($$ % 4000) * 2 ))
mkdir -p "$WORK/state" "$WORK/spool" "$WORK/munge"
chmod 700 "$WORK/munge"
cp /etc/munge/munge.key "$WORK/munge/munge.key" 2>/dev/null \
    || dd if=/dev/urandom of="$WORK/munge/munge.key" bs=1 count=1024 status=none
chmod 400 "$WORK/munge/munge.key"
MUNGE_SOCKET="$WORK/munge/munge.socket"
NODELINE=$(slurmd -C 2>/dev/null | head -1 | sed -E 's/ RealMemory=[0-9]+//')
[ -n "$NODELINE" ] || NODELINE="NodeName=$NODE CPUs=$(nproc)"
cat >"$WORK/slurm.conf" <<EOF
# Single-node test cluster on loopback (written by scripts/slurm-test.sh).
ClusterName=xbartest
SlurmctldHost=$NODE(127.0.0.1)
SlurmctldPort=$PORT
SlurmdPort=$((PORT + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$MUNGE_SOCKET
StateSaveLocation=$WORK/state
SlurmdSpoolDir=$WORK/spool
SlurmctldPidFile=$WORK/slurmctld.pid
SlurmdPidFile=$WORK/slurmd.pid
SlurmctldLogFile=$WORK/slurmctld.log
SlurmdLogFile=$WORK/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
MpiDefault=none
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
$NODELINE NodeAddr=127.0.0.1 State=UNKNOWN
PartitionName=test Nodes=$NODE Default=YES MaxTime=60 State=UP
EOF
# No cgroups in a container: nothing here uses them (proctrack/linuxproc, task/none).
cat >"$WORK/cgroup.conf" <<EOF
CgroupAutomount=no
ConstrainCores=no
ConstrainRAMSpace=no
EOF
export SLURM_CONF="$WORK/slurm.conf"

munged --foreground --force --socket="$MUNGE_SOCKET" --key-file="$WORK/munge/munge.key" --pid-file="$WORK/munge/munged.pid" \
    --log-file="$WORK/munge/munged.log" --seed-file="$WORK/munge/munged.seed" >"$WORK/munged.out" 2>&1 &
PIDS+=($!)
for _ in $(seq 1 40); do [ -S "$MUNGE_SOCKET" ] && break; sleep 0.25; done
[ -S "$MUNGE_SOCKET" ] || { cat "$WORK/munged.out" "$WORK/munge/munged.log" >&2 2>/dev/null; skip "munged did not start"; }

slurmctld -D -c -f "$SLURM_CONF" >"$WORK/slurmctld.out" 2>&1 &
PIDS+=($!)
slurmd -D -N "$NODE" -f "$SLURM_CONF" >"$WORK/slurmd.out" 2>&1 &
PIDS+=($!)
state=""
for _ in $(seq 1 120); do
    state=$(timeout 5 sinfo -h -n "$NODE" -o %t 2>/dev/null | head -1)
    [ "$state" = "idle" ] && break
    sleep 0.5
done
if [ "$state" != "idle" ]; then
    tail -5 "$WORK/slurmctld.log" "$WORK/slurmd.log" "$WORK/slurmctld.out" "$WORK/slurmd.out" >&2 2>/dev/null
    skip "the node did not become idle within 60 s (state '${state:-none}')"
fi
say "single-node Slurm up: node $NODE idle on 127.0.0.1:$PORT ($(elapsed))"

# 4. The example sweep as a job array; then merge.
OUT="$WORK/results.jsonl"
T1=$(date +%s)
JOBID=$(timeout 30 sbatch --parsable --array=0-$((SHARDS - 1)) --chdir="$REPO" --output="$WORK/task-%A_%a.out" \
    --export=ALL,XBAR="$XBAR",SPEC="$SPEC",OUT="$OUT" examples/sweep/sweep.sbatch) || skip "sbatch refused the job"
JOBID=${JOBID%%;*}
say "submitted job array $JOBID ($SHARDS tasks)"
done_=0
for _ in $(seq 1 1800); do
    if [ -z "$(timeout 10 squeue -h -j "$JOBID" -o %T 2>/dev/null)" ]; then done_=1; break; fi
    sleep 0.5
done
if [ $done_ = 0 ]; then
    st=$(timeout 10 squeue -h -j "$JOBID" -o %T | sort -u | tr '\n' ' ')
    case "$st" in *RUNNING*) fail "job array $JOBID still running after 15 min ($st)";; *) skip "job array $JOBID never ran ($st)";; esac
fi
T2=$(date +%s)
for f in "$WORK"/task-*.out; do [ -f "$f" ] && sed 's/^/  | /' "$f" >&2; done
shards=( "$WORK"/results.shard-*-of-$SHARDS.jsonl )
[ ${#shards[@]} -eq "$SHARDS" ] && [ -f "${shards[0]}" ] || fail "expected $SHARDS shard files, found: ${shards[*]}"
grep -qs "points" "$WORK"/task-*.out || fail "no task reported its points"
"$XBAR" sweep merge "$SPEC" "${shards[@]}" --out "$WORK/slurm-merged.jsonl" --strip-timing >&2 || fail "merge of the Slurm shards refused"

# 5. The same sweep locally, and the comparison.
T3=$(date +%s)
"$XBAR" sweep "$SPEC" --out "$WORK/local.jsonl" --quiet >&2 || fail "local sweep failed"
T4=$(date +%s)
"$XBAR" sweep merge "$SPEC" "$WORK/local.jsonl" --out "$WORK/local-merged.jsonl" --strip-timing >&2 || fail "merge of the local run refused"
"$XBAR" sweep compare "$WORK/slurm-merged.jsonl" "$WORK/local-merged.jsonl" >&2 || fail "Slurm and local results differ"
cmp "$WORK/slurm-merged.jsonl" "$WORK/local-merged.jsonl" >&2 || fail "merged files are not byte-identical"
n=$(wc -l <"$WORK/local-merged.jsonl")
say "PASSED: $n points, Slurm array ($SHARDS tasks) == local run, byte for byte; job array $((T2 - T1))s, local run $((T4 - T3))s, total $(elapsed)"
exit 0
