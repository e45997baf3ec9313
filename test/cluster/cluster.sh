#!/usr/bin/env bash
# rlstack test cluster: a REAL multi-node sshd cluster and a REAL Slurm cluster
# on this one machine, each node in its own network namespace.
#
#   cluster.sh install                       apt-get what is needed (idempotent)
#   cluster.sh up [--nodes N] [--cpu-nodes M] start a fresh cluster (default 8 GPU + 2 CPU nodes)
#   cluster.sh status                        daemons, ssh through the bastion, sinfo
#   cluster.sh down                          stop and remove everything `up` made (idempotent)
#   cluster.sh logs [LINES]                  tail every daemon log
#
# Root only. See README.md next to this file for the topology, files and limits.
# Environment overrides (rarely needed):
#   RLSTACK_CLUSTER_DIR        runtime dir, must stay short (unix sockets < 108 bytes); default /tmp/rlstack-cluster
#   RLSTACK_CLUSTER_STATE_DIR  where env/ssh_config/keys go; default <this dir>/.state
#   RLSTACK_CLUSTER_NET        first two octets of the private /16 used only here; default 10.77
#   RLSTACK_CLUSTER_KEEP_ON_FAIL=1  a failed `up` leaves everything in place for debugging
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
STATE_DIR=${RLSTACK_CLUSTER_STATE_DIR:-$SCRIPT_DIR/.state}
RUN=${RLSTACK_CLUSTER_DIR:-/tmp/rlstack-cluster}
NET=${RLSTACK_CLUSTER_NET:-10.77}

NS_PREFIX=rlsc-            # network namespaces: rlsc-<host>
BR_CLU=rlsbr-clu           # cluster network NET.0.0/24: bastion + nodes; the host has no address on it
BR_MGT=rlsbr-mgt           # management network NET.1.0/24: host, bastion, slurmctld, slurmd
HOSTS_MARK='# rlstack-test-cluster'
RUN_MARK=.rlstack-test-cluster
BASTION=bastion
CTL=slurmctl
GPUS_PER_NODE=8
CPUS_PER_NODE=8
MEM_PER_NODE=4000
PKGS=(openssh-server openssh-client slurmctld slurmd slurm-client munge iproute2 util-linux procps shellcheck pdsh)

log() { printf '[cluster %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
now_ms() { date +%s%3N; }

need_root() { [[ $(id -u) -eq 0 ]] || die "must run as root"; }

check_config() {
  case $RUN in
    /*/?*) ;;
    *) die "RLSTACK_CLUSTER_DIR must be an absolute path below a top-level directory (got '$RUN')" ;;
  esac
  [[ $RUN != *[[:space:]]* && ${#RUN} -le 48 ]] ||
    die "RLSTACK_CLUSTER_DIR must be short and without spaces (unix socket paths must stay < 108 bytes)"
  [[ $NET =~ ^10\.[0-9]{1,3}$ ]] || die "RLSTACK_CLUSTER_NET must look like 10.X (got '$NET')"
}

# ---------------------------------------------------------------- topology
GPU_NODES=() CPU_NODES=() SLURM_NODES=()
declare -A CLU_ADDR=() MGT_ADDR=()
HOST_MGT='' PRIVATE_NODE='' THROTTLED_NODE=''
# The throttled node's sshd takes few unauthenticated connections at once, so a test can fill them.
THROTTLED_MAX_STARTUPS=3

build_topology() {
  local n=$1 m=$2 i name
  for ((i = 1; i <= n; i++)); do
    printf -v name 'node%02d' "$i"
    GPU_NODES+=("$name"); CLU_ADDR[$name]=$NET.0.$((10 + i)); MGT_ADDR[$name]=$NET.1.$((10 + i))
  done
  for ((i = 1; i <= m; i++)); do
    printf -v name 'cpu%02d' "$i"
    CPU_NODES+=("$name"); CLU_ADDR[$name]=$NET.0.$((200 + i)); MGT_ADDR[$name]=$NET.1.$((200 + i))
  done
  SLURM_NODES=("${GPU_NODES[@]}" "${CPU_NODES[@]}")
  CLU_ADDR[$BASTION]=$NET.0.2; MGT_ADDR[$BASTION]=$NET.1.2
  MGT_ADDR[$CTL]=$NET.1.3
  HOST_MGT=$NET.1.1
  PRIVATE_NODE=${GPU_NODES[-1]}
  THROTTLED_NODE=${GPU_NODES[-2]:-}
}

ns_of() { printf '%s%s' "$NS_PREFIX" "$1"; }

# ---------------------------------------------------------------- processes
# Every daemon is recorded as "PID STARTTIME" in $RUN/pids/<label>, so `down`
# never signals a recycled PID.
starttime_of() { # pid -> field 22 of /proc/pid/stat (empty if gone)
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  rest=${stat##*) }
  # shellcheck disable=SC2086 # split the stat fields on purpose
  set -- $rest
  printf '%s' "${20:-}"
}
proc_gone() { # pid: exited, or a zombie waiting to be reaped
  local stat rest
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 0
  rest=${stat##*) }
  [[ ${rest:0:1} == Z ]]
}
record_pid() { # label pid
  printf '%s %s\n' "$2" "$(starttime_of "$2")" >"$RUN/pids/$1"
}
pid_alive() { # label -> 0 if the recorded process still runs
  local f=$RUN/pids/$1 pid st
  [[ -f $f ]] || return 1
  read -r pid st <"$f"
  [[ -n $st && $(starttime_of "$pid") == "$st" ]] && ! proc_gone "$pid"
}
label_pid() { local pid _st; read -r pid _st <"$RUN/pids/$1"; printf '%s' "$pid"; }

# start_bg LABEL LOGFILE CMD...: start CMD detached from our session, stdin
# closed, output to LOGFILE, and record its PID (exec chains keep the PID).
start_bg() {
  local label=$1 logf=$2; shift 2
  setsid "$@" </dev/null >"$logf" 2>&1 &
  record_pid "$label" "$!"
}

# A holder is `sleep infinity` inside the node's network namespace, with its
# own UTS namespace (hostname). A cluster node (pid) also gets its own PID
# namespace with its own /proc (so a process list on a node shows that node
# only, as on a real machine): there the holder is `unshare`, and the node's
# first process, a shell that reaps orphans, is recorded as init-NAME. The
# private-mount node also gets a tmpfs over the shared dir. sshd/slurmd/munged/
# slurmctld are then nsenter'ed into it.
# shellcheck disable=SC2016 # $0/$1 are expanded by the inner sh
NODE_INIT='exec bash -c "while :; do sleep 3600 & wait \$!; done"'
start_holder() { # name [private|pid]
  local name=$1 kind=${2:-}
  if [[ $kind == private ]]; then
    # shellcheck disable=SC2016 # $0/$1 are expanded by the inner sh
    start_bg "holder-$name" "$RUN/log/holder-$name.log" \
      nsenter --net="/run/netns/$(ns_of "$name")" \
      unshare --uts --pid --fork --mount-proc --propagation private /bin/sh -c \
      'hostname "$0" && mount -n -t tmpfs -o size=64m,mode=0755 rlstack-private "$1" &&
       printf "%s\n" "private mount of $0: NOT the shared dir" >"$1/.rlstack-private-mount" &&
       '"$NODE_INIT" "$name" "$RUN/shared"
  elif [[ $kind == pid ]]; then
    # shellcheck disable=SC2016 # $0 is expanded by the inner sh
    start_bg "holder-$name" "$RUN/log/holder-$name.log" \
      nsenter --net="/run/netns/$(ns_of "$name")" \
      unshare --uts --pid --fork --mount-proc --propagation private /bin/sh -c 'hostname "$0" && '"$NODE_INIT" "$name"
  else
    # shellcheck disable=SC2016 # $0 is expanded by the inner sh
    start_bg "holder-$name" "$RUN/log/holder-$name.log" \
      nsenter --net="/run/netns/$(ns_of "$name")" \
      unshare --uts /bin/sh -c 'hostname "$0" && exec sleep infinity' "$name"
  fi
}
wait_holders() { # names...
  local name pid init deadline=$((SECONDS + 10))
  for name in "$@"; do
    pid=$(label_pid "holder-$name")
    until [[ $(cat "/proc/$pid/comm" 2>/dev/null) == sleep ]]; do
      if [[ $(cat "/proc/$pid/comm" 2>/dev/null) == unshare ]]; then # a PID namespace: its init is the child
        init=$(pgrep -P "$pid" | head -n 1)
        if [[ -n $init && $(cat "/proc/$init/comm" 2>/dev/null) == bash ]]; then
          record_pid "init-$name" "$init"
          break
        fi
      fi
      pid_alive "holder-$name" || die "holder of $name died: $(cat "$RUN/log/holder-$name.log")"
      ((SECONDS < deadline)) || die "holder of $name not ready after 10 s"
      sleep 0.01
    done
  done
}
# The process whose namespaces are the node's (its init in a PID namespace), and nsenter's flags for them.
node_target() { if [[ -f $RUN/pids/init-$1 ]]; then label_pid "init-$1"; else label_pid "holder-$1"; fi; }
node_ns_flags() { if [[ -f $RUN/pids/init-$1 ]]; then echo "--net --uts --mount --pid"; else echo "--net --uts --mount"; fi; }
in_node() { # name cmd... : run cmd in the node's namespaces
  local name=$1; shift
  # shellcheck disable=SC2046 # the flags are words
  nsenter --target "$(node_target "$name")" $(node_ns_flags "$name") -- "$@"
}
# start_in_node LABEL LOGFILE NAME CMD...: start_bg inside node NAME. Entering a PID namespace, nsenter forks:
# the label then records the daemon itself (nsenter's child), which tests signal (SIGSTOP an sshd).
start_in_node() {
  local label=$1 logf=$2 name=$3; shift 3
  # shellcheck disable=SC2046 # the flags are words
  start_bg "$label" "$logf" nsenter --target "$(node_target "$name")" $(node_ns_flags "$name") -- "$@"
  [[ -f $RUN/pids/init-$name ]] || return 0
  local parent child deadline=$((SECONDS + 10))
  parent=$(label_pid "$label")
  until child=$(pgrep -P "$parent" | head -n 1) && [[ -n $child ]]; do
    ((SECONDS < deadline)) || die "$label did not start in $name"
    sleep 0.01
  done
  record_pid "$label" "$child"
}

# ---------------------------------------------------------------- install
cmd_install() {
  need_root
  local p missing=()
  for p in "${PKGS[@]}"; do
    [[ $(dpkg-query -W -f='${Status}' "$p" 2>/dev/null) == 'install ok installed' ]] || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log "all packages already installed: ${PKGS[*]}"
    return 0
  fi
  log "installing: ${missing[*]}"
  # Keep apt from starting the system's sshd/munge/slurm (Debian images for
  # containers ship a policy-rc.d that exits 101; add one if it is missing).
  local added_policy=''
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 0755 /usr/sbin/policy-rc.d
    added_policy=1
  fi
  local rc=0
  {
    apt-get update -q &&
      DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
        -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  } || rc=$?
  [[ -z $added_policy ]] || rm -f /usr/sbin/policy-rc.d
  ((rc == 0)) || die "apt-get failed ($rc)"
  log "installed"
}

# ---------------------------------------------------------------- down
leftovers() { # prints a description of anything of ours still on the machine
  local out=''
  [[ -e $RUN ]] && out+=" dir:$RUN"
  [[ -e $STATE_DIR/env ]] && out+=" state:$STATE_DIR/env"
  out+=$(ip netns list 2>/dev/null | awk -v p="$NS_PREFIX" 'index($1, p) == 1 {printf " netns:%s", $1}')
  out+=$(our_links | awk '{printf " link:%s", $1}')
  grep -qF "$HOSTS_MARK" /etc/hosts 2>/dev/null && out+=" /etc/hosts-entries"
  ip route show type unreachable 2>/dev/null | grep -q "^unreachable $NET.0.0/16" && out+=" route:unreachable-$NET.0.0/16"
  printf '%s' "${out# }"
}
our_links() {
  ip -o link show 2>/dev/null | awk -F': ' '{sub(/@.*/, "", $2); print $2}' |
    grep -E "^(rc-|rm-|$BR_CLU\$|$BR_MGT\$)" || true
}

collect_pids() { # prints PIDs of everything we started, one per line
  local f pid st ns p exe
  if [[ -d $RUN/pids ]]; then
    for f in "$RUN"/pids/*; do
      [[ -f $f ]] || continue
      read -r pid st <"$f" || continue
      [[ -n $st && $(starttime_of "$pid") == "$st" ]] && printf '%s\n' "$pid"
    done
  fi
  # anything living in one of our network namespaces (job steps, test leftovers)
  for ns in $(ip netns list 2>/dev/null | awk -v p="$NS_PREFIX" 'index($1, p) == 1 {print $1}'); do
    ip netns pids "$ns" 2>/dev/null || true
  done
  # our daemons by their config path, in case a pid file was lost
  local -a argv
  for p in /proc/[0-9]*; do
    mapfile -d '' -t argv 2>/dev/null <"$p/cmdline" || continue
    exe="${argv[*]:-}"
    case $exe in
      *sshd\ *"$RUN/"* | *slurmctld\ *"$RUN/"* | *slurmd\ *"$RUN/"* | *munged\ *"$RUN/"*) printf '%s\n' "${p#/proc/}" ;;
    esac
  done
}

stop_pids() { # pids... : TERM, wait up to 10 s, KILL, wait up to 5 s
  local -A skip=()
  local p=$$ pp
  while [[ $p -gt 1 ]]; do # never signal ourselves or our ancestors
    skip[$p]=1
    pp=$(awk '{print $4}' "/proc/$p/stat" 2>/dev/null) || break
    [[ $pp =~ ^[0-9]+$ ]] || break
    p=$pp
  done
  skip[$BASHPID]=1
  local -a todo=()
  for p in "$@"; do [[ -n ${skip[$p]:-} ]] || todo+=("$p"); done
  ((${#todo[@]})) || return 0
  kill -TERM "${todo[@]}" 2>/dev/null || true
  local round t_end left=()
  for round in term kill; do
    t_end=$((SECONDS + 10))
    while :; do
      left=()
      for p in "${todo[@]}"; do proc_gone "$p" || left+=("$p"); done
      ((${#left[@]})) || return 0
      ((SECONDS < t_end)) || break
      sleep 0.05
    done
    if [[ $round == term ]]; then
      log "sending SIGKILL to ${left[*]}"
      kill -KILL "${left[@]}" 2>/dev/null || true
      todo=("${left[@]}")
    fi
  done
  log "WARNING: still alive after SIGKILL: ${left[*]}"
}

cmd_down() {
  need_root
  check_config
  local t0 ns l tmp
  t0=$(now_ms)
  # shellcheck disable=SC2046 # one PID per word
  stop_pids $(collect_pids | sort -un)
  for ns in $(ip netns list 2>/dev/null | awk -v p="$NS_PREFIX" 'index($1, p) == 1 {print $1}'); do
    ip netns del "$ns" 2>/dev/null || log "WARNING: could not delete netns $ns"
  done
  for l in $(our_links); do
    ip link del "$l" 2>/dev/null || true
  done
  while ip route show type unreachable 2>/dev/null | grep -q "^unreachable $NET.0.0/16"; do
    ip route del unreachable "$NET.0.0/16" || break
  done
  if grep -qF "$HOSTS_MARK" /etc/hosts 2>/dev/null; then
    tmp=$(mktemp)
    grep -vF "$HOSTS_MARK" /etc/hosts >"$tmp" || true
    cat "$tmp" >/etc/hosts # in place: /etc/hosts may be a bind mount
    rm -f "$tmp"
  fi
  # no host-side mounts are made, but never rm -rf through one
  awk -v r="$RUN" '$5 == r || index($5, r "/") == 1 {print $5}' /proc/self/mountinfo | sort -r |
    while read -r l; do umount -n -l "$l" || true; done
  if [[ -d $RUN ]]; then
    if [[ -e $RUN/created-run-sshd ]]; then rmdir /run/sshd 2>/dev/null || true; fi
    if [[ -e $RUN/created-run-netns && -d /run/netns && -z $(ls -A /run/netns) ]]; then
      while mountpoint -q /run/netns; do umount -n /run/netns || break; done
      rmdir /run/netns 2>/dev/null || true
    fi
    if [[ -e $RUN/$RUN_MARK || -z $(ls -A "$RUN") ]]; then
      rm -rf -- "$RUN"
    else
      log "WARNING: $RUN was not made by this script (no $RUN_MARK); left in place"
    fi
  fi
  rm -f -- "$STATE_DIR"/{env,env.tmp,env.json,ssh_config,known_hosts,known_hosts.new,id_ed25519,id_ed25519.pub,nodes.tsv}
  [[ ! -d $STATE_DIR ]] || rmdir "$STATE_DIR" 2>/dev/null || true
  local left
  left=$(leftovers)
  [[ -z $left ]] || log "WARNING: left over after down: $left"
  log "down in $(($(now_ms) - t0)) ms"
}

# ---------------------------------------------------------------- up
UP_OK=''
on_up_exit() {
  local rc=$?
  [[ -z $UP_OK ]] || return 0
  trap '' INT TERM
  log "up FAILED (exit $rc); last log lines:"
  local f
  for f in "$RUN"/log/*; do
    [[ -s $f ]] || continue
    printf -- '--- %s\n' "$f" >&2
    tail -n 5 "$f" >&2
  done
  if [[ -n ${RLSTACK_CLUSTER_KEEP_ON_FAIL:-} ]]; then
    log "RLSTACK_CLUSTER_KEEP_ON_FAIL set: leaving everything in place; run '$0 down'"
  else
    log "rolling back"
    (cmd_down) || true
  fi
}

veth_attach() { # host ifname-in-ns hostside-name bridge addr
  local ns ifn=$2 hs=$3 br=$4 addr=$5
  ns=$(ns_of "$1")
  ip link add "$hs" type veth peer name "$ifn" netns "$ns"
  ip link set "$hs" addrgenmode none
  ip link set "$hs" master "$br" up
  ip -n "$ns" link set "$ifn" addrgenmode none
  ip -n "$ns" addr add "$addr/24" dev "$ifn"
  ip -n "$ns" link set "$ifn" up
}

setup_network() {
  [[ -d /run/netns ]] || : >"$RUN/created-run-netns"
  local br
  for br in "$BR_CLU" "$BR_MGT"; do
    ip link add "$br" type bridge
    ip link set "$br" addrgenmode none # no IPv6 link-local: IPv4 only on the test networks
  done
  ip addr add "$HOST_MGT/24" dev "$BR_MGT"
  ip link set "$BR_CLU" up
  ip link set "$BR_MGT" up
  # Nothing addressed to the test /16 may follow the host's default route:
  # the cluster network is unreachable from the host, by design.
  ip route add unreachable "$NET.0.0/16"
  local name
  for name in "$BASTION" "$CTL" "${SLURM_NODES[@]}"; do
    ip netns add "$(ns_of "$name")"
    ip -n "$(ns_of "$name")" link set lo up
  done
  # eth0 = cluster network, eth1 = management network (slurmctl: eth0 = management)
  veth_attach "$BASTION" eth0 "rc-$BASTION" "$BR_CLU" "${CLU_ADDR[$BASTION]}"
  veth_attach "$BASTION" eth1 "rm-$BASTION" "$BR_MGT" "${MGT_ADDR[$BASTION]}"
  veth_attach "$CTL" eth0 "rm-$CTL" "$BR_MGT" "${MGT_ADDR[$CTL]}"
  for name in "${SLURM_NODES[@]}"; do
    veth_attach "$name" eth0 "rc-$name" "$BR_CLU" "${CLU_ADDR[$name]}"
    veth_attach "$name" eth1 "rm-$name" "$BR_MGT" "${MGT_ADDR[$name]}"
  done
}

setup_hosts() {
  local name
  {
    printf '%s %s %s\n' "${MGT_ADDR[$BASTION]}" "$BASTION" "$HOSTS_MARK"
    printf '%s %s %s\n' "${MGT_ADDR[$CTL]}" "$CTL" "$HOSTS_MARK"
    for name in "${SLURM_NODES[@]}"; do
      printf '%s %s %s\n' "${CLU_ADDR[$name]}" "$name" "$HOSTS_MARK"
    done
  } >>/etc/hosts
}

# SHLVL=1 in every session: bash run by sshd sources root's ~/.bashrc when SHLVL < 2 (Debian's
# SSH_SOURCE_BASHRC). On this machine that runs `pyenv init`, i.e. `pyenv rehash` on every SSH command: about
# a second each, serialised on one lock file, and a session torn down mid-rehash (Ctrl-C tests, lease expiry)
# leaves the lock behind so every later command waits 60 s for it. The nodes model a cluster's machines,
# not this host's shell set-up; rlstack's own commands never need a login rc.
write_sshd_config() { # name listen-address|'' -> path
  local name=$1 listen=$2 conf=$RUN/ssh/$1/sshd_config
  {
    printf '%s\n' "Port 22"
    [[ -z $listen ]] || printf 'ListenAddress %s\n' "$listen"
    printf '%s\n' \
      "HostKey $RUN/ssh/$name/ssh_host_ed25519_key" \
      "PidFile none" \
      "AuthorizedKeysFile $RUN/ssh/authorized_keys" \
      "PubkeyAuthentication yes" \
      "PasswordAuthentication no" \
      "KbdInteractiveAuthentication no" \
      "PermitRootLogin prohibit-password" \
      "UsePAM no" \
      "StrictModes no" \
      "MaxStartups $([[ $name == "$THROTTLED_NODE" ]] && echo "$THROTTLED_MAX_STARTUPS" || echo 100:30:200)" \
      "MaxSessions 64" \
      "AllowTcpForwarding yes" \
      "X11Forwarding no" \
      "PrintMotd no" \
      "Subsystem sftp internal-sftp" \
      "SetEnv SLURM_CONF=$RUN/slurm/slurm.conf RLSTACK_TEST_NODE=$name SHLVL=1"
  } >"$conf"
  /usr/sbin/sshd -t -f "$conf"
}

setup_ssh() {
  local name
  if [[ ! -d /run/sshd ]]; then # sshd refuses to start without it
    mkdir -p /run/sshd
    chmod 0755 /run/sshd
    : >"$RUN/created-run-sshd"
  fi
  mkdir -p "$STATE_DIR"
  rm -f "$STATE_DIR/id_ed25519" "$STATE_DIR/id_ed25519.pub"
  ssh-keygen -q -t ed25519 -N '' -C rlstack-test-client -f "$STATE_DIR/id_ed25519"
  cp "$STATE_DIR/id_ed25519.pub" "$RUN/ssh/authorized_keys"
  : >"$STATE_DIR/known_hosts.new"
  for name in "$BASTION" "${SLURM_NODES[@]}"; do
    mkdir -p "$RUN/ssh/$name"
    ssh-keygen -q -t ed25519 -N '' -C "host-$name" -f "$RUN/ssh/$name/ssh_host_ed25519_key"
    if [[ $name == "$BASTION" ]]; then
      write_sshd_config "$name" '' # both of its addresses
      printf '%s,%s,%s ' "$name" "${MGT_ADDR[$name]}" "${CLU_ADDR[$name]}" >>"$STATE_DIR/known_hosts.new"
    else
      write_sshd_config "$name" "${CLU_ADDR[$name]}" # cluster network only
      printf '%s,%s ' "$name" "${CLU_ADDR[$name]}" >>"$STATE_DIR/known_hosts.new"
    fi
    cut -d' ' -f1,2 "$RUN/ssh/$name/ssh_host_ed25519_key.pub" >>"$STATE_DIR/known_hosts.new"
  done
  mv "$STATE_DIR/known_hosts.new" "$STATE_DIR/known_hosts"

  local all_hosts="$BASTION ${SLURM_NODES[*]}"
  {
    printf '# rlstack test cluster: ssh -F %s node01 hostname\n' "$STATE_DIR/ssh_config"
    printf '# Written by %s up; removed by down.\n\n' "$0"
    printf 'Host %s\n    HostName %s\n\n' "$BASTION" "$BASTION"
    for name in "${SLURM_NODES[@]}"; do
      printf 'Host %s\n    HostName %s\n    ProxyJump %s\n\n' "$name" "$name" "$BASTION"
    done
    printf 'Host %s\n' "$all_hosts"
    printf '    %s\n' \
      "User root" \
      "Port 22" \
      "IdentityFile \"$STATE_DIR/id_ed25519\"" \
      "IdentitiesOnly yes" \
      "UserKnownHostsFile \"$STATE_DIR/known_hosts\"" \
      "GlobalKnownHostsFile /dev/null" \
      "StrictHostKeyChecking yes" \
      "UpdateHostKeys no" \
      "CheckHostIP no" \
      "BatchMode yes" \
      "ConnectTimeout 10" \
      "ServerAliveInterval 15" \
      "LogLevel ERROR"
  } >"$STATE_DIR/ssh_config"

}

write_slurm_conf() {
  local conf=$RUN/slurm/slurm.conf name g
  local gpu_list cpu_list
  gpu_list=$(IFS=,; printf '%s' "${GPU_NODES[*]}")
  cpu_list=$(IFS=,; printf '%s' "${CPU_NODES[*]}")
  {
    printf '%s\n' \
      "# rlstack test cluster (written by cluster.sh up)" \
      "ClusterName=rlstack" \
      "SlurmctldHost=$CTL(${MGT_ADDR[$CTL]})" \
      "SlurmctldPort=6817" \
      "SlurmdPort=6818" \
      "SlurmUser=root" \
      "SlurmdUser=root" \
      "AuthType=auth/munge" \
      "CredType=cred/munge" \
      "AuthInfo=socket=$RUN/munge/munge.socket" \
      "StateSaveLocation=$RUN/slurm/state" \
      "SlurmdSpoolDir=$RUN/slurm/spool/%n" \
      "SlurmctldPidFile=$RUN/slurm/slurmctld.pid" \
      "SlurmdPidFile=$RUN/slurm/slurmd-%n.pid" \
      "SlurmctldLogFile=$RUN/log/slurmctld.log" \
      "SlurmdLogFile=$RUN/log/slurmd-%n.log" \
      "ProctrackType=proctrack/linuxproc" \
      "TaskPlugin=task/none" \
      "SelectType=select/cons_tres" \
      "SelectTypeParameters=CR_Core" \
      "JobAcctGatherType=jobacct_gather/none" \
      "AccountingStorageType=accounting_storage/none" \
      "JobCompType=jobcomp/filetxt" \
      "JobCompLoc=$RUN/log/jobcomp.log" \
      "MpiDefault=none" \
      "MailProg=/bin/true" \
      "ReturnToService=2" \
      "SlurmdParameters=config_overrides" \
      "MinJobAge=3600" \
      "GresTypes=gpu" \
      "SchedulerParameters=bf_interval=1"
    for name in "${GPU_NODES[@]}"; do
      printf 'NodeName=%s NodeAddr=%s NodeHostname=%s CPUs=%s RealMemory=%s Gres=gpu:%s State=UNKNOWN\n' \
        "$name" "${MGT_ADDR[$name]}" "$name" "$CPUS_PER_NODE" "$MEM_PER_NODE" "$GPUS_PER_NODE"
    done
    for name in "${CPU_NODES[@]}"; do
      printf 'NodeName=%s NodeAddr=%s NodeHostname=%s CPUs=%s RealMemory=%s State=UNKNOWN\n' \
        "$name" "${MGT_ADDR[$name]}" "$name" "$CPUS_PER_NODE" "$MEM_PER_NODE"
    done
    printf 'PartitionName=gpu Nodes=%s Default=YES MaxTime=INFINITE DefaultTime=60 State=UP\n' "$gpu_list"
    ((${#CPU_NODES[@]} == 0)) ||
      printf 'PartitionName=cpu Nodes=%s MaxTime=INFINITE DefaultTime=60 State=UP\n' "$cpu_list"
  } >"$conf"
  # Fake GPUs: char devices with /dev/null's numbers (file-less GPUs are dropped by slurmd)
  for ((g = 0; g < GPUS_PER_NODE; g++)); do
    mknod "$RUN/slurm/fakedev/nvidia$g" c 1 3
  done
  {
    printf 'AutoDetect=off\n'
    printf 'NodeName=%s Name=gpu File=%s/slurm/fakedev/nvidia[0-%s]\n' "$gpu_list" "$RUN" "$((GPUS_PER_NODE - 1))"
  } >"$RUN/slurm/gres.conf"
  for name in "${SLURM_NODES[@]}"; do mkdir -p "$RUN/slurm/spool/$name"; done
}

wait_ssh() {
  local name deadline=$((SECONDS + 15)) addrs=()
  for name in "${SLURM_NODES[@]}"; do addrs+=("${CLU_ADDR[$name]}"); done
  # From the bastion's namespace (the host cannot reach the cluster network)
  # shellcheck disable=SC2016 # expanded by the inner bash
  until in_node "$BASTION" bash -c 'for a in "$@"; do (exec 3<>"/dev/tcp/$a/22") 2>/dev/null || exit 1; done' _ \
    "${addrs[@]}" && (exec 3<>"/dev/tcp/${MGT_ADDR[$BASTION]}/22") 2>/dev/null; do
    for name in "$BASTION" "${SLURM_NODES[@]}"; do
      pid_alive "sshd-$name" || die "sshd of $name died: $(tail -n 5 "$RUN/log/sshd-$name.log")"
    done
    ((SECONDS < deadline)) || die "sshd not accepting connections after 15 s"
    sleep 0.05
  done
}

wait_slurm() {
  local name deadline=$((SECONDS + 60)) idle bad total=${#SLURM_NODES[@]}
  while :; do
    pid_alive slurmctld || die "slurmctld died: $(tail -n 5 "$RUN/log/slurmctld.log" "$RUN/log/slurmctld.stderr" 2>/dev/null)"
    for name in "${SLURM_NODES[@]}"; do
      pid_alive "slurmd-$name" || die "slurmd of $name died: $(tail -n 5 "$RUN/log/slurmd-$name.log" "$RUN/log/slurmd-$name.stderr" 2>/dev/null)"
    done
    idle=$(sinfo -h -N -t idle -o %N 2>/dev/null | sort -u | wc -l) || idle=0
    ((idle == total)) && return 0
    bad=$(sinfo -h -N -o '%N %T %E' 2>/dev/null | grep -Ei ' (inval|drain|fail)') || bad=''
    [[ -z $bad ]] || die "slurm nodes unusable: $bad"
    ((SECONDS < deadline)) || die "only $idle of $total slurm nodes idle after 60 s: $(sinfo -N 2>&1)"
    sleep 0.1
  done
}

json_str() { # escape for a JSON string
  local s=$1
  s=${s//\\/\\\\}; s=${s//\"/\\\"}
  printf '"%s"' "$s"
}

write_env() {
  local name clu_addrs=() mgt_addrs=() tsv=$STATE_DIR/nodes.tsv cpu_part=''
  ((${#CPU_NODES[@]} == 0)) || cpu_part=cpu
  for name in "${SLURM_NODES[@]}"; do clu_addrs+=("${CLU_ADDR[$name]}"); mgt_addrs+=("${MGT_ADDR[$name]}"); done
  {
    printf 'name\trole\tpartition\taddr\tmgmt_addr\tnetns\tprivate_shared_dir\thost_key\n'
    printf '%s\tbastion\t-\t%s\t%s\t%s\tno\t%s\n' "$BASTION" "${CLU_ADDR[$BASTION]}" "${MGT_ADDR[$BASTION]}" \
      "$(ns_of "$BASTION")" "$(cut -d' ' -f1,2 "$RUN/ssh/$BASTION/ssh_host_ed25519_key.pub")"
    for name in "${SLURM_NODES[@]}"; do
      local part=gpu role=gpu priv=no
      [[ $name == cpu* ]] && part=cpu role=cpu
      [[ $name == "$PRIVATE_NODE" ]] && priv=yes
      printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$role" "$part" "${CLU_ADDR[$name]}" "${MGT_ADDR[$name]}" \
        "$(ns_of "$name")" "$priv" "$(cut -d' ' -f1,2 "$RUN/ssh/$name/ssh_host_ed25519_key.pub")"
    done
  } >"$tsv"

  local -a kv=(
    RLSTACK_CLUSTER_DIR "$RUN"
    RLSTACK_CLUSTER_STATE_DIR "$STATE_DIR"
    RLSTACK_CLUSTER_NODES "${SLURM_NODES[*]}"
    RLSTACK_CLUSTER_NODE_ADDRS "${clu_addrs[*]}"
    RLSTACK_CLUSTER_NODE_MGMT_ADDRS "${mgt_addrs[*]}"
    RLSTACK_CLUSTER_GPU_NODES "${GPU_NODES[*]}"
    RLSTACK_CLUSTER_CPU_NODES "${CPU_NODES[*]}"
    RLSTACK_CLUSTER_GPUS_PER_NODE "$GPUS_PER_NODE"
    RLSTACK_CLUSTER_CPUS_PER_NODE "$CPUS_PER_NODE"
    RLSTACK_CLUSTER_NODES_TSV "$tsv"
    RLSTACK_CLUSTER_BASTION "$BASTION"
    RLSTACK_CLUSTER_BASTION_ADDR "${MGT_ADDR[$BASTION]}"
    RLSTACK_CLUSTER_BASTION_INTERNAL_ADDR "${CLU_ADDR[$BASTION]}"
    RLSTACK_CLUSTER_HOST_ADDR "$HOST_MGT"
    RLSTACK_CLUSTER_SSH_CONFIG "$STATE_DIR/ssh_config"
    RLSTACK_CLUSTER_SSH_KEY "$STATE_DIR/id_ed25519"
    RLSTACK_CLUSTER_KNOWN_HOSTS "$STATE_DIR/known_hosts"
    RLSTACK_CLUSTER_SSH_USER root
    RLSTACK_CLUSTER_SSH_PORT 22
    RLSTACK_CLUSTER_SHARED_DIR "$RUN/shared"
    RLSTACK_CLUSTER_PRIVATE_NODE "$PRIVATE_NODE"
    RLSTACK_CLUSTER_THROTTLED_NODE "$THROTTLED_NODE"
    RLSTACK_CLUSTER_THROTTLED_MAX_STARTUPS "$THROTTLED_MAX_STARTUPS"
    RLSTACK_CLUSTER_NETNS_PREFIX "$NS_PREFIX"
    RLSTACK_CLUSTER_SLURM_CONF "$RUN/slurm/slurm.conf"
    RLSTACK_CLUSTER_SLURMCTLD "$CTL"
    RLSTACK_CLUSTER_SLURMCTLD_ADDR "${MGT_ADDR[$CTL]}"
    RLSTACK_CLUSTER_GPU_PARTITION gpu
    RLSTACK_CLUSTER_CPU_PARTITION "$cpu_part"
    RLSTACK_CLUSTER_LOG_DIR "$RUN/log"
    SLURM_CONF "$RUN/slurm/slurm.conf"
  )
  local i sep=''
  {
    printf '# rlstack test cluster, written by cluster.sh up; removed by down. Source it: . %s\n' "$STATE_DIR/env"
    for ((i = 0; i < ${#kv[@]}; i += 2)); do
      printf "export %s='%s'\n" "${kv[i]}" "${kv[i + 1]}"
    done
  } >"$STATE_DIR/env.tmp"
  {
    printf '{'
    for ((i = 0; i < ${#kv[@]}; i += 2)); do
      printf '%s\n  %s: %s' "$sep" "$(json_str "${kv[i]}")" "$(json_str "${kv[i + 1]}")"
      sep=,
    done
    printf '\n}\n'
  } >"$STATE_DIR/env.json"
  mv "$STATE_DIR/env.tmp" "$STATE_DIR/env" # last: its presence means "up and healthy"
}

cmd_up() {
  need_root
  check_config
  local n=8 m=2
  while (($#)); do
    case $1 in
      --nodes) n=${2:?--nodes needs a number}; shift 2 ;;
      --nodes=*) n=${1#*=}; shift ;;
      --cpu-nodes) m=${2:?--cpu-nodes needs a number}; shift 2 ;;
      --cpu-nodes=*) m=${1#*=}; shift ;;
      *) die "unknown option for up: $1" ;;
    esac
  done
  [[ $n =~ ^[0-9]+$ && $n -ge 1 && $n -le 99 ]] || die "--nodes must be 1..99"
  [[ $m =~ ^[0-9]+$ && $m -le 50 ]] || die "--cpu-nodes must be 0..50"
  local b
  for b in ip nsenter unshare setsid /usr/sbin/sshd ssh-keygen munged slurmctld slurmd sinfo; do
    command -v "$b" >/dev/null || die "$b not found: run '$0 install' first"
  done

  local t0 left
  t0=$(now_ms)
  trap on_up_exit EXIT
  trap 'exit 130' INT TERM
  left=$(leftovers)
  if [[ -n $left ]]; then
    log "removing a previous cluster first ($left)"
    cmd_down
  fi
  build_topology "$n" "$m"

  mkdir -p "$RUN"
  chmod 0755 "$RUN" # munged wants a+x on every directory above its socket
  : >"$RUN/$RUN_MARK"
  mkdir -p "$RUN"/{pids,log,shared,munge,ssh} "$RUN"/slurm/{state,spool,fakedev}
  chmod 0755 "$RUN/shared"
  chmod 0755 "$RUN/munge"

  setup_network
  setup_hosts
  local name
  for name in "$BASTION" "$CTL" "${SLURM_NODES[@]}"; do
    if [[ $name == "$PRIVATE_NODE" ]]; then start_holder "$name" private
    elif [[ $name == "$BASTION" || $name == "$CTL" ]]; then start_holder "$name"
    else start_holder "$name" pid; fi
  done
  setup_ssh
  write_slurm_conf
  export SLURM_CONF=$RUN/slurm/slurm.conf

  # munge: own key, socket, pid, log and seed (nothing under /etc/munge is used)
  dd if=/dev/urandom of="$RUN/munge/munge.key" bs=1024 count=1 status=none
  chmod 0400 "$RUN/munge/munge.key"
  wait_holders "$BASTION" "$CTL" "${SLURM_NODES[@]}"
  start_in_node munged "$RUN/log/munged.stderr" "$CTL" munged -F \
    --key-file="$RUN/munge/munge.key" --socket="$RUN/munge/munge.socket" \
    --pid-file="$RUN/munge/munged.pid" --log-file="$RUN/log/munged.log" --seed-file="$RUN/munge/munge.seed"
  for name in "$BASTION" "${SLURM_NODES[@]}"; do
    start_in_node "sshd-$name" "$RUN/log/sshd-$name.log" "$name" /usr/sbin/sshd -D -e -f "$RUN/ssh/$name/sshd_config"
  done
  local deadline=$((SECONDS + 10))
  until [[ -S $RUN/munge/munge.socket ]]; do
    pid_alive munged || die "munged died: $(cat "$RUN/log/munged.stderr" "$RUN/log/munged.log" 2>/dev/null)"
    ((SECONDS < deadline)) || die "munged socket missing after 10 s"
    sleep 0.02
  done
  start_in_node slurmctld "$RUN/log/slurmctld.stderr" "$CTL" slurmctld -D -f "$SLURM_CONF"
  # slurmd registers at once when the controller already listens (else it retries later)
  deadline=$((SECONDS + 20))
  until (exec 3<>"/dev/tcp/${MGT_ADDR[$CTL]}/6817") 2>/dev/null; do
    pid_alive slurmctld || die "slurmctld died: $(tail -n 5 "$RUN/log/slurmctld.log" "$RUN/log/slurmctld.stderr" 2>/dev/null)"
    ((SECONDS < deadline)) || die "slurmctld not listening after 20 s"
    sleep 0.02
  done
  for name in "${SLURM_NODES[@]}"; do
    start_in_node "slurmd-$name" "$RUN/log/slurmd-$name.stderr" "$name" slurmd -D -f "$SLURM_CONF" -N "$name"
  done
  wait_ssh
  local t_ssh
  t_ssh=$(now_ms)
  wait_slurm
  write_env
  UP_OK=1
  trap - EXIT INT TERM
  log "up in $(($(now_ms) - t0)) ms (sshd ready at +$((t_ssh - t0)) ms): ${#GPU_NODES[@]} gpu + ${#CPU_NODES[@]} cpu nodes, bastion, $CTL"
  log "env: . $STATE_DIR/env   ssh: ssh -F $STATE_DIR/ssh_config ${GPU_NODES[0]} hostname"
}

# ---------------------------------------------------------------- status
cmd_status() {
  need_root
  check_config
  if [[ ! -f $STATE_DIR/env ]]; then
    printf 'cluster: DOWN (no %s)\n' "$STATE_DIR/env"
    local left
    left=$(leftovers)
    [[ -z $left ]] || printf 'leftovers: %s\n' "$left"
    return 1
  fi
  # shellcheck source=/dev/null
  . "$STATE_DIR/env"
  local ok=1 f label
  printf 'cluster: UP  (env %s)\n\ndaemons:\n' "$STATE_DIR/env"
  for f in "$RUN"/pids/*; do
    label=${f##*/}
    if pid_alive "$label"; then
      printf '  %-16s pid %-7s running\n' "$label" "$(label_pid "$label")"
    else
      printf '  %-16s DEAD\n' "$label"; ok=''
    fi
  done
  printf '\nssh via %s (StrictHostKeyChecking yes):\n' "$RLSTACK_CLUSTER_BASTION"
  local name out tmp hosts=()
  read -ra hosts <<<"$RLSTACK_CLUSTER_BASTION $RLSTACK_CLUSTER_NODES"
  tmp=$(mktemp -d)
  for name in "${hosts[@]}"; do
    (ssh -F "$RLSTACK_CLUSTER_SSH_CONFIG" "$name" hostname >"$tmp/$name" 2>&1 || true) &
  done
  wait
  for name in "${hosts[@]}"; do
    out=$(tr '\n' ' ' <"$tmp/$name")
    if [[ $out == "$name " ]]; then
      printf '  %-8s ok (hostname %s)\n' "$name" "$name"
    else
      printf '  %-8s FAIL: %s\n' "$name" "$out"; ok=''
    fi
  done
  rm -rf "$tmp"
  printf '\nslurm (sinfo):\n'
  sinfo 2>&1 | sed 's/^/  /' || ok=''
  local total idle
  total=$((${#hosts[@]} - 1))
  idle=$(sinfo -h -N -t idle,alloc,mix -o %N 2>/dev/null | sort -u | wc -l) || idle=0
  printf '  %s of %s nodes up (idle/alloc/mix)\n' "$idle" "$total"
  ((idle == total)) || ok=''
  if [[ -n $ok ]]; then printf '\nhealth: OK\n'; else printf '\nhealth: FAILING\n'; return 1; fi
}

cmd_logs() {
  local lines=${1:-20} f
  for f in "$RUN"/log/*; do
    [[ -s $f ]] || continue
    printf '==> %s <==\n' "$f"
    tail -n "$lines" "$f"
  done
}

usage() {
  sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'
}

main() {
  local cmd=${1:-}
  (($#)) && shift
  case $cmd in
    install) cmd_install "$@" ;;
    up) cmd_up "$@" ;;
    down) cmd_down "$@" ;;
    status) cmd_status "$@" ;;
    logs) cmd_logs "$@" ;;
    -h | --help | help) usage ;;
    *) usage >&2; exit 2 ;;
  esac
}

main "$@"
