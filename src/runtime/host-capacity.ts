/**
 * How a node measures what it really has, in one place for the SSH preflight (before anything starts) and
 * node.sh's node check (every back end, at start): capacities the spec does not declare are unknown until
 * a node reports them (issue 12), and a declared one may be wrong.
 */

/** Bash functions, printing KiB: `usable_memory_kib` and `free_disk_kib DIR`. */
export const HOST_CAPACITY_FUNCTIONS = `usable_memory_kib() { # MemTotal, or less where this session's cgroup (or a parent: a container, a slice) limits it
  local mem lim base file controllers cg
  mem=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo 2> /dev/null)
  [[ $mem =~ ^[0-9]+$ ]] || return 1
  # cgroup v2 (memory.max), or v1's memory controller (memory.limit_in_bytes).
  while IFS=: read -r _ controllers cg; do
    case $controllers in
      '') base=/sys/fs/cgroup file=memory.max ;;
      memory | *,memory | memory,* | *,memory,*) base=/sys/fs/cgroup/memory file=memory.limit_in_bytes ;;
      *) continue ;;
    esac
    cg=\${cg%/}
    while :; do
      lim=$(cat "$base$cg/$file" 2> /dev/null) || lim=
      if [[ $lim =~ ^[0-9]+$ ]] && (( lim / 1024 < mem )); then mem=$((lim / 1024)); fi
      [[ -n $cg ]] || break
      cg=\${cg%/*}
    done
  done < /proc/self/cgroup
  printf '%s\\n' "$mem"
}

free_disk_kib() { # dir — free space of the filesystem holding dir (its nearest existing ancestor)
  local d=$1 kib
  while [[ ! -d $d && $d != / ]]; do d=$(dirname "$d"); done
  kib=$(df -Pk "$d" 2> /dev/null | awk 'NR == 2 { print $4 }')
  [[ $kib =~ ^[0-9]+$ ]] || return 1
  printf '%s\\n' "$kib"
}
`;
