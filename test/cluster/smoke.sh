#!/usr/bin/env bash
# Smoke test of the rlstack test cluster: up, check ssh/isolation/shared dir/Slurm, down,
# and check that down put the machine back as it was. Root only.
#   smoke.sh [--nodes N]     (default 8; N >= 3)
# Prints one "ok"/"FAIL" line per check, timings, and "N passed, N failed" last.
set -euo pipefail

HERE=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
CL=$HERE/cluster.sh
N=8
while (($#)); do
  case $1 in
    --nodes) N=${2:?}; shift 2 ;;
    --nodes=*) N=${1#*=}; shift ;;
    *) echo "usage: $0 [--nodes N]" >&2; exit 2 ;;
  esac
done
((N >= 3)) || { echo "--nodes must be >= 3" >&2; exit 2; }

pass=0 fail=0
ok() { pass=$((pass + 1)); printf 'ok   %s\n' "$*"; }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }
check() { # description cmd...
  local d=$1; shift
  if "$@"; then ok "$d"; else bad "$d"; fi
}
now_ms() { date +%s%3N; }

# What `down` must restore: links, routes, netns, /etc/hosts, mounts, /run entries.
snapshot() {
  ip -o link show | awk -F': ' '{sub(/@.*/, "", $2); print "link " $2}'
  ip route show table all | sed 's/^/route /'
  ip netns list 2>/dev/null | sed 's/^/netns /'
  sed 's/^/hosts /' /etc/hosts
  findmnt -rn -o TARGET | sort | sed 's/^/mount /'
  find /run -mindepth 1 -maxdepth 1 -printf 'run %f\n' | sort
}

T_START=$(now_ms)
BEFORE=$(mktemp)
AFTER=$(mktemp)
WORK=''
DOWN_DONE=''
cleanup() {
  [[ -n $DOWN_DONE ]] || bash "$CL" down >/dev/null 2>&1 || true
  rm -f "$BEFORE" "$AFTER"
}
trap cleanup EXIT
if [[ -e $HERE/.state/env ]] || ip netns list 2>/dev/null | grep -q '^rlsc-'; then
  echo "== a cluster is already up: down first, so the baseline is the clean machine"
  bash "$CL" down
fi
snapshot >"$BEFORE"

echo "== up --nodes $N"
t0=$(now_ms)
bash "$CL" up --nodes "$N"
T_UP=$(($(now_ms) - t0))
# shellcheck source=/dev/null
. "$HERE/.state/env"
read -ra GPU <<<"$RLSTACK_CLUSTER_GPU_NODES"
read -ra CPU <<<"$RLSTACK_CLUSTER_CPU_NODES"
read -ra ALL <<<"$RLSTACK_CLUSTER_NODES"
B=$RLSTACK_CLUSTER_BASTION
PRIV=$RLSTACK_CLUSTER_PRIVATE_NODE
WORK=$RLSTACK_CLUSTER_DIR/smoke
mkdir -p "$WORK"
cd "$WORK"
SSH=(ssh -F "$RLSTACK_CLUSTER_SSH_CONFIG")
T_CHECKS0=$(now_ms)

echo "== ssh through the bastion, host keys checked"
pinned() {
  local g
  g=$(ssh -F "$RLSTACK_CLUSTER_SSH_CONFIG" -G "${GPU[0]}" | grep -E '^(stricthostkeychecking|proxyjump) ' | sort | tr '\n' ' ')
  [[ $g == "proxyjump $B stricthostkeychecking true " ]]
}
check "ssh_config pins StrictHostKeyChecking yes and ProxyJump $B" pinned
declare -A OUT=()
for h in "$B" "${ALL[@]}"; do
  # shellcheck disable=SC2016 # expanded on the node
  ("${SSH[@]}" "$h" 'echo "$(hostname) $RLSTACK_TEST_NODE $SLURM_CONF"' >"$WORK/ssh-$h.out" 2>"$WORK/ssh-$h.err" || true) &
done
wait
for h in "$B" "${ALL[@]}"; do
  OUT[$h]=$(cat "$WORK/ssh-$h.out")
  if [[ ${OUT[$h]} == "$h $h $SLURM_CONF" ]]; then
    ok "ssh $h -> hostname $h, SLURM_CONF set"
  else
    bad "ssh $h -> hostname $h, SLURM_CONF set (stdout: ${OUT[$h]}; stderr: $(tr '\n' ' ' <"$WORK/ssh-$h.err"))"
  fi
done

echo "== wrong or unknown host keys are refused"
other_key=$(awk -v n="${GPU[1]}" 'index($1, n ",") == 1 {print $2, $3}' "$RLSTACK_CLUSTER_KNOWN_HOSTS")
awk -v n="${GPU[0]}" -v k="$other_key" 'index($1, n ",") == 1 {print $1, k; next} {print}' \
  "$RLSTACK_CLUSTER_KNOWN_HOSTS" >"$WORK/kh-bad-node"
awk -v n="$B" -v k="$other_key" 'index($1, n ",") == 1 {print $1, k; next} {print}' \
  "$RLSTACK_CLUSTER_KNOWN_HOSTS" >"$WORK/kh-bad-bastion"
: >"$WORK/kh-empty"
refused() { # known_hosts host
  local out rc=0
  out=$("${SSH[@]}" -o UserKnownHostsFile="$1" "$2" true 2>&1) || rc=$?
  [[ $rc -eq 255 && $out == *"Host key verification failed"* ]]
}
check "${GPU[0]} presenting a key other than the pinned one is refused" refused "$WORK/kh-bad-node" "${GPU[0]}"
check "$B presenting a key other than the pinned one is refused" refused "$WORK/kh-bad-bastion" "$B"
check "an unknown host key is refused (empty known_hosts)" refused "$WORK/kh-empty" "${GPU[0]}"

echo "== isolation"
no_direct() {
  local out rc=0
  out=$("${SSH[@]}" -o ProxyJump=none -o ConnectTimeout=3 "${GPU[0]}" true 2>&1) || rc=$?
  [[ $rc -eq 255 && $out == *"No route to host"* ]]
}
check "host -> ${GPU[0]}:22 without the bastion: No route to host" no_direct
tcp_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
tcp_closed() { ! tcp_open "$@"; }
check "host -> ${GPU[0]} management address :22 refused (sshd only on the cluster network)" \
  tcp_closed "${RLSTACK_CLUSTER_NODE_MGMT_ADDRS%% *}" 22
check "host -> $B:22 reachable" tcp_open "$RLSTACK_CLUSTER_BASTION_ADDR" 22

echo "== the same port on two nodes, reached by host name from a third"
serve='nohup node -e '\''require("http").createServer((q,s)=>s.end(require("os").hostname())).listen(8100,"0.0.0.0")'\'' >/dev/null 2>&1 & sleep 0.3; echo started'
if command -v node >/dev/null; then
  "${SSH[@]}" "${GPU[0]}" "$serve" >/dev/null
  "${SSH[@]}" "${GPU[1]}" "$serve" >/dev/null
  # shellcheck disable=SC2016 # expanded remotely
  got=$("${SSH[@]}" "${GPU[2]}" 'for h in '"${GPU[0]} ${GPU[1]}"'; do for _ in 1 2 3 4 5 6 7 8 9 10; do
      exec 3<>"/dev/tcp/$h/8100" 2>/dev/null && break; sleep 0.2; done
      printf "GET / HTTP/1.0\r\n\r\n" >&3; tail -n 1 <&3; echo; exec 3<&-; done' | tr '\n' ' ')
  check "${GPU[0]}:8100 and ${GPU[1]}:8100 both serve (got: $got)" [ "$got" = "${GPU[0]} ${GPU[1]} " ]
else
  bad "node is not installed: same-port check skipped"
fi

echo "== shared run dir"
token=smoke-$$-$RANDOM
printf '%s\n' "$token" >"$RLSTACK_CLUSTER_SHARED_DIR/token"
for h in "${GPU[0]}" "${CPU[@]:0:1}"; do
  check "$h sees the token in $RLSTACK_CLUSTER_SHARED_DIR" \
    [ "$("${SSH[@]}" "$h" "cat $RLSTACK_CLUSTER_SHARED_DIR/token")" = "$token" ]
done
check "$PRIV does NOT see it (private mount)" \
  [ "$("${SSH[@]}" "$PRIV" "cat $RLSTACK_CLUSTER_SHARED_DIR/token 2>/dev/null || echo missing; test -e $RLSTACK_CLUSTER_SHARED_DIR/.rlstack-private-mount && echo private")" = "$(printf 'missing\nprivate')" ]

echo "== Slurm"
names=$(srun -N "$N" -p gpu hostname 2>&1 | sort -u | tr '\n' ' ')
check "srun -N $N -p gpu hostname -> $N distinct host names ($names)" [ "$names" = "${GPU[*]} " ]
rc=0; out=$(sbatch --test-only -p gpu -N "$((N + 1))" --wrap true 2>&1) || rc=$?
rejected() { [[ $rc -ne 0 && $out == *"Requested node configuration is not available"* ]]; }
check "sbatch --test-only -N $((N + 1)) rejected (rc=$rc: $out)" rejected
rc=0; out=$(sbatch --test-only -p gpu -N "$N" --gres=gpu:8 --wrap true 2>&1) || rc=$?
check "sbatch --test-only -N $N --gres=gpu:8 accepted" [ "$rc" -eq 0 ]
rc=0; out=$(sbatch --test-only -p gpu -N 1 --gres=gpu:9 --wrap true 2>&1) || rc=$?
check "sbatch --test-only --gres=gpu:9 rejected" rejected

wait_done() { # jobid timeout-s -> 0 when every component is COMPLETED
  local id=$1 end=$((SECONDS + $2)) states
  while ((SECONDS < end)); do
    states=$(scontrol -o show job "$id" 2>/dev/null | grep -o 'JobState=[A-Z_]*' | sort -u | tr '\n' ' ')
    [[ $states == "JobState=COMPLETED " ]] && return 0
    [[ $states == *FAILED* || $states == *CANCELLED* || $states == *TIMEOUT* ]] && { echo "  $states" >&2; return 1; }
    sleep 0.2
  done
  echo "  still $states after $2 s" >&2
  return 1
}
cat >"$WORK/het.sh" <<'EOF'
#!/bin/bash
echo "batch $(hostname)"
srun --het-group=0 bash -c 'echo "g0 $(hostname) $CUDA_VISIBLE_DEVICES"'
srun --het-group=1 bash -c 'echo "g1 $(hostname)"'
EOF
t0=$(now_ms)
het=$(sbatch --parsable -o "$WORK/het-%j.out" -p gpu -N 2 --gres=gpu:8 : -p cpu -N 1 "$WORK/het.sh")
check "heterogeneous job $het (-p gpu -N 2 : -p cpu -N 1) COMPLETED" wait_done "$het" 60
T_HET=$(($(now_ms) - t0))
het_out=$(sort "$WORK/het-$het.out" 2>/dev/null || true)
het_ok() {
  [[ $(grep -cE '^g0 node[0-9]+ 0,1,2,3,4,5,6,7$' <<<"$het_out") -eq 2 &&
    $(grep -E '^g0 ' <<<"$het_out" | sort -u | wc -l) -eq 2 &&
    $(grep -cE '^g1 cpu[0-9]+$' <<<"$het_out") -eq 1 ]]
}
check "hetjob ran on 2 gpu nodes with 8 GPUs each and 1 cpu node ($(tr '\n' '|' <<<"$het_out"))" het_ok
sub=$("${SSH[@]}" "$B" "sbatch --parsable -p gpu -N 2 -o $WORK/viabastion-%j.out --wrap 'srun hostname'" 2>"$WORK/sub.err")
check "sbatch over ssh on the bastion -> job $sub COMPLETED" wait_done "$sub" 30
rc=0; out=$(sacct -n 2>&1) || rc=$?
echo "info: sacct exits $rc: $out"
T_CHECKS=$(($(now_ms) - T_CHECKS0))

echo "== down"
mapfile -t DAEMONS < <(cat "$RLSTACK_CLUSTER_DIR"/pids/* | awk '{print $1}')
cd /
t0=$(now_ms)
bash "$CL" down
T_DOWN=$(($(now_ms) - t0))
DOWN_DONE=1
snapshot >"$AFTER"
check "machine state after down equals state before up" diff -u "$BEFORE" "$AFTER"
alive=()
for p in "${DAEMONS[@]}"; do
  [[ -e /proc/$p/stat && $(awk '{print $3}' "/proc/$p/stat" 2>/dev/null) != Z ]] && alive+=("$p")
done
check "all ${#DAEMONS[@]} daemons and holders stopped (alive: ${alive[*]:-none})" [ "${#alive[@]}" -eq 0 ]
no_servers() { ! pgrep -f 'listen\(8100' >/dev/null; }
check "the node servers started over ssh were stopped too" no_servers
gone() { [[ ! -e $RLSTACK_CLUSTER_DIR && ! -e $HERE/.state ]]; }
check "$RLSTACK_CLUSTER_DIR and $HERE/.state are gone" gone

echo "== timings: up ${T_UP} ms, checks ${T_CHECKS} ms (hetjob ${T_HET} ms), down ${T_DOWN} ms, total $(($(now_ms) - T_START)) ms"
echo "$pass passed, $fail failed"
((fail == 0))
