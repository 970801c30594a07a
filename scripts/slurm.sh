#!/usr/bin/env bash
# A real Slurm cluster on this one machine, for the tests and for trying Torc without a cluster.
#
#   scripts/slurm.sh start    install Debian's packages if missing, configure, start, wait until idle
#   scripts/slurm.sh stop     cancel every job, then stop the daemons
#   scripts/slurm.sh status   sinfo and squeue
#
# Three virtual nodes (n1..n3, 2 CPUs and 2,000 MB each) share the machine through slurmd's
# config_overrides; jobs run as the user who submits them. Needs root (apt, daemons).
#
# Where the machine lets Slurm use cgroups (a writable cgroup v1 memory hierarchy, or cgroup v2
# with the memory controller), jobs and job steps are confined by Slurm's cgroups, as on a real
# cluster: proctrack/cgroup and task/cgroup, with their CPUs, memory (RAM and swap) constrained
# (cgroup.conf). A step that outgrows its --mem is killed by the kernel. Elsewhere nothing is
# confined (proctrack/linuxproc, task/none). SLURM_CGROUPS=0 forces the latter.
set -euo pipefail

NODES="n1 n2 n3"
CONF=/etc/slurm/slurm.conf
CGROUP_CONF=/etc/slurm/cgroup.conf

# Whether Slurm can confine jobs with cgroups here: a read-write memory controller, v1 or v2.
cgroups_usable() {
    [ "${SLURM_CGROUPS:-1}" = 1 ] || return 1
    awk '($3 == "cgroup" && $4 ~ /(^|,)rw(,|$)/ && $4 ~ /(^|,)memory(,|$)/) {found=1} END {exit !found}' /proc/mounts \
        && return 0
    [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ] && grep -qw memory /sys/fs/cgroup/cgroup.controllers
}

cgroup_conf() {
    local swap=no
    # Swap is constrained where the kernel accounts it (v1 memsw, v2 swap.max): no escape into swap.
    if [ -e /sys/fs/cgroup/memory/memory.memsw.limit_in_bytes ] || [ "$(stat -fc %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
        swap=yes
    fi
    printf '%s\n' "CgroupPlugin=autodetect" "CgroupMountpoint=/sys/fs/cgroup" "ConstrainCores=yes" \
        "ConstrainRAMSpace=yes" "AllowedRAMSpace=100" "ConstrainSwapSpace=${swap}" "AllowedSwapSpace=0"
}

install() {
    local missing=()
    for pkg in slurmctld slurmd slurm-client munge; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return
    export DEBIAN_FRONTEND=noninteractive
    local created_policy=0
    if [ ! -e /usr/sbin/policy-rc.d ]; then  # keep the packages from starting services themselves
        printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d && created_policy=1
    fi
    apt-get update -q -o DPkg::Lock::Timeout=600
    apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 "${missing[@]}"
    [ $created_policy -eq 1 ] && rm -f /usr/sbin/policy-rc.d
    return 0
}

write_conf() {
    local host
    host=$(hostname -s)
    grep -qE "^[0-9.]+\s.*\b${host}\b" /etc/hosts || echo "127.0.0.1 ${host}" >> /etc/hosts
    mkdir -p /etc/slurm /var/lib/slurm/slurmctld /var/log/slurm
    for n in $NODES; do mkdir -p "/var/lib/slurm/slurmd-$n"; done
    local new proctrack=proctrack/linuxproc task=task/none cgroups=""
    if cgroups_usable; then
        proctrack=proctrack/cgroup task=task/cgroup cgroups=$(cgroup_conf)
    fi
    new=$(cat <<EOF
ClusterName=torc
SlurmctldHost=${host}(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=${proctrack}
TaskPlugin=${task}
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=/var/lib/slurm/slurmctld
SlurmdSpoolDir=/var/lib/slurm/slurmd-%n
SlurmctldPidFile=/run/slurmctld.pid
SlurmdPidFile=/run/slurmd-%n.pid
SlurmctldLogFile=/var/log/slurm/slurmctld.log
SlurmdLogFile=/var/log/slurm/slurmd-%n.log
SlurmdParameters=config_overrides
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=/var/log/slurm/jobcomp.log
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0,bf_interval=1
MinJobAge=300
KillWait=5
MailProg=/bin/true
NodeName=n[1-3] NodeHostname=${host} NodeAddr=127.0.0.1 Port=17001-17003 CPUs=2 RealMemory=2000 State=UNKNOWN
PartitionName=debug Nodes=n[1-3] Default=YES MaxTime=INFINITE DefaultTime=01:00:00 DefMemPerCPU=500 State=UP
EOF
)
    local old_cgroups=""
    [ -f "$CGROUP_CONF" ] && old_cgroups=$(cat "$CGROUP_CONF")
    if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$new" ] || [ "$old_cgroups" != "$cgroups" ]; then
        echo "$new" > "$CONF"
        if [ -n "$cgroups" ]; then echo "$cgroups" > "$CGROUP_CONF"; else rm -f "$CGROUP_CONF"; fi
        stop_daemons
    fi
}

start_munge() {
    if [ ! -f /etc/munge/munge.key ]; then
        mkdir -p /etc/munge && dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key 2>/dev/null
    fi
    chown -R munge:munge /etc/munge && chmod 700 /etc/munge && chmod 600 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge && chown munge:munge /run/munge /var/log/munge /var/lib/munge
    chmod 755 /run/munge
    munge -n 2>/dev/null | unmunge >/dev/null 2>&1 || runuser -u munge -- munged --force
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start() {
    install
    write_conf
    start_munge
    alive /run/slurmctld.pid || slurmctld
    for n in $NODES; do alive "/run/slurmd-$n.pid" || slurmd -N "$n"; done
    # Up means every node answers: idle, or running allocations (mixed, allocated, completing).
    for _ in $(seq 1 150); do
        if [ -n "$(sinfo -h -o '%T' 2>/dev/null)" ] && [ -z "$(sinfo -h -o '%T' 2>/dev/null | grep -Ev '^(idle|mixed|allocated|completing)$')" ]; then
            local confined="jobs not confined"
            grep -q '^TaskPlugin=task/cgroup' "$CONF" && confined="jobs confined by cgroups"
            echo "slurm: nodes $(sinfo -h -o '%N') up ($(sinfo -h -o '%T' | sort -u | tr '\n' ' ' | sed 's/ $//')), $confined"
            return 0
        fi
        sleep 0.2
    done
    echo "slurm: the nodes did not come up; see /var/log/slurm" >&2
    sinfo >&2 || true
    return 1
}

stop_pid() {
    alive "$1" || return 0
    local pid
    pid=$(cat "$1")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 75); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
}

stop_daemons() {
    for n in $NODES; do stop_pid "/run/slurmd-$n.pid"; done
    stop_pid /run/slurmctld.pid
}

stop() {
    if command -v scancel >/dev/null && alive /run/slurmctld.pid; then
        scancel --full --user "$(id -un)" 2>/dev/null || true
        for _ in $(seq 1 50); do [ -z "$(squeue -h 2>/dev/null)" ] && break; sleep 0.2; done
    fi
    stop_daemons
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) sinfo; squeue ;;
    *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
