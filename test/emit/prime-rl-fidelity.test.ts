/**
 * Issue 10: what the artifacts must do for a real prime-rl (559b447) to start and train — one test per
 * finding, each failing on the artifacts before the fix. Runtime functions of node.sh run in real bash on
 * real folders (extracted from the compiled script); the rest is checked on the compiled artifacts.
 * The prime-rl lines are cited in docs/prime-rl-mapping.md.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'smol-toml';
import { describe, expect, it } from 'vitest';
import { renderArtifacts, type Artifact } from '../../src/compiler/emit/artifacts.js';
import { presetPath } from '../../src/compiler/load/compose.js';
import { planSpec } from '../../src/compiler/pipeline.js';
import { shQuote, shWord } from '../../src/runtime/shell.js';
import { BASE_MULTINODE, bashFunctions, tempDirs, workspace } from '../helpers.js';

const tempDir = tempDirs('rlstack-fidelity-');

function compiled(path: string, sets: string[] = []) {
  const r = planSpec(path, { sets });
  if (!r.ok) throw new Error(r.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n'));
  const { artifacts } = renderArtifacts(r.resolved, r.derived, r.plan);
  const file = (p: string): string => {
    const a = artifacts.find((x: Artifact) => x.path === p);
    if (!a) throw new Error(`no ${p}`);
    return a.content;
  };
  return { plan: r.plan, artifacts, file };
}

const intellect3 = compiled(presetPath('intellect3'));
const mini = compiled(presetPath('i3-mini'));
const tiny = compiled(presetPath('tiny'));

function bash(script: string, env: Record<string, string> = {}): string {
  return execFileSync('bash', ['-c', `set -uo pipefail\nshopt -s nullglob\n${script}`], { encoding: 'utf8', env: { PATH: process.env.PATH!, ...env } });
}

const NODE_SH = intellect3.file('node.sh');

/** The node plan's function of one process (nodes/node-NNN.sh: what node.sh sources to start it). */
function procFunction(c: ReturnType<typeof compiled>, name: string): string {
  const p = c.plan.processes.find((x) => x.name === name)!;
  const text = c.file(`nodes/node-${String(p.node).padStart(3, '0')}.sh`);
  const at = text.indexOf(`# ${name}\n`);
  return text.slice(at, text.indexOf('\n}', at));
}
const FAIL_STUB = 'fail() { echo "FAIL $1: $2"; exit 1; }\nwrite_atomic() { printf \'%s\\n\' "$2" > "$1"; }\n';

describe('prime-rl fidelity (issue 10)', () => {
  it('1. trainers start with the orchestrator: nothing in the plan waits for the rollout port the orchestrator binds only after trainer rank 0 joined', () => {
    for (const { plan } of [intellect3, mini]) {
      const orchestrator = plan.processes.find((p) => p.role === 'orchestrator')!;
      for (const p of plan.processes) expect(p.after, p.name).not.toContain('orchestrator');
      for (const t of plan.processes.filter((p) => p.role === 'trainer')) {
        expect(t.order).toBe(orchestrator.order);
        expect(t.watch).toEqual(['orchestrator']);
      }
    }
    // a node starts the processes that wait for nothing first (trainer-0 beside the orchestrator)
    expect(NODE_SH).toMatch(/\(\( \$\{#RLS_AFTER\[@\]\} \)\) \|\| start_process "\$name"/);
  });

  it('2. trainer rank 0 serves the weight-broadcast store on every interface (prime-rl default: localhost)', () => {
    for (const { file } of [intellect3, mini]) {
      const trainer = parse(file('configs/trainer.toml')) as { weight_broadcast: { type: string; host?: string } };
      expect(trainer.weight_broadcast.type).toBe('nccl');
      expect(trainer.weight_broadcast.host).toBe('0.0.0.0');
    }
  });

  it('3. every engine gets its own VLLM_RPC_BASE_PATH, created before it starts', () => {
    expect(NODE_SH).toMatch(/mkdir -p "\$rpc_dir" \|\| fail/);
    expect(NODE_SH).toContain('managed+=("$RLS_IPC_DIR_ENV=$rpc_dir")');
    // which processes get it is the plan's word (src/runtime/components/lifecycle.ts), not a role name in node.sh
    for (const p of intellect3.plan.processes) expect(p.lifecycle.ipc_dir_env, p.name).toBe(p.role === 'inference' ? 'VLLM_RPC_BASE_PATH' : null);
    expect(procFunction(tiny, 'inference-0')).toContain("RLS_IPC_DIR_ENV=VLLM_RPC_BASE_PATH");
    // short enough for a unix socket path (108 bytes) with vLLM's 36-character socket names
    const dir = `/tmp/vllm-rpc-rls-${'f'.repeat(16)}-99-65535`;
    expect(`${dir}/${'0'.repeat(36)}`.length).toBeLessThan(108);
  });

  it('the run\'s state: node 0\'s "running" never replaces a stop another node wrote first; the first end wins', () => {
    const dir = tempDir();
    const run = (calls: string) => bash(`${bashFunctions(NODE_SH, ['json_string', 'write_atomic', 'now', 'run_state', 'mark_run'])}\nSTATE_DIR=${dir}\n${calls}\nrun_state`).trim();
    expect(run('mark_run stopped "stop requested: interrupted during launch"; mark_run running starting')).toBe('stopped');
    expect(run('mark_run failed "late"')).toBe('stopped');
    const fresh = tempDir();
    expect(bash(`${bashFunctions(NODE_SH, ['json_string', 'write_atomic', 'now', 'run_state', 'mark_run'])}\nSTATE_DIR=${fresh}\nmark_run running starting; mark_run running again; run_state`).trim()).toBe('running');
    expect(readdirSync(fresh)).toEqual(['run.json']);
  });

  it('3. a node clears only earlier attempts\' IPC folders of this run (nodes may share /tmp)', () => {
    const tmp = tempDir();
    const prefix = `${tmp}/vllm-rpc-rls-0123456789abcdef`;
    for (const d of [`${prefix}-1-8100`, `${prefix}-2-8100`, `${prefix}-2-8101`, `${tmp}/vllm-rpc-rls-fedcba9876543210-1-8100`]) mkdirSync(d);
    bash(`${bashFunctions(NODE_SH, ['remove_stale_rpc_dirs'])}\nRPC_DIR_PREFIX=${prefix} ATTEMPT=2 remove_stale_rpc_dirs`);
    expect(readdirSync(tmp).sort()).toEqual(['vllm-rpc-rls-0123456789abcdef-2-8100', 'vllm-rpc-rls-0123456789abcdef-2-8101', 'vllm-rpc-rls-fedcba9876543210-1-8100']);
  });

  it('4. the model is fetched with `hf download` (huggingface_hub >= 1.0 has no huggingface-cli)', () => {
    expect(NODE_SH).toContain('uv run --no-sync hf download "$MODEL_NAME"');
    expect(NODE_SH).not.toContain('huggingface-cli download');
  });

  it('5. no process runs offline: the orchestrator and env servers load their datasets themselves', () => {
    for (const { artifacts } of [intellect3, mini, tiny]) {
      for (const a of artifacts) expect(a.content, a.path).not.toContain('HF_HUB_OFFLINE');
    }
  });

  it('6. env servers on other nodes are addressed through a second @ file, never an indexed list flag', () => {
    const orchestrator = intellect3.plan.processes.find((p) => p.name === 'orchestrator')!;
    expect(orchestrator.command.some((w) => /^--(train|eval)\.source\.\d/.test(w))).toBe(false);
    const at = orchestrator.command.indexOf('${RLSTACK_RENDERED}/configs/orchestrator-sources.json');
    expect(orchestrator.command.slice(at - 3, at + 1)).toEqual(['@', '${RLSTACK_ARTIFACTS}/configs/orchestrator.toml', '@', '${RLSTACK_RENDERED}/configs/orchestrator-sources.json']);
    // node.sh resolves the host words of the file into the attempt's state dir
    const dir = tempDir();
    mkdirSync(join(dir, 'artifacts/configs'), { recursive: true });
    writeFileSync(join(dir, 'artifacts/configs/orchestrator-sources.json'), intellect3.file('configs/orchestrator-sources.json'));
    const hosts = Array.from({ length: intellect3.plan.nodes.length }, (_, i) => `host-${i}.cluster`);
    const out = bash(
      `${FAIL_STUB}${bashFunctions(NODE_SH, ['render_files'])}
NODE_COUNT=${hosts.length}; RLSTACK_HOSTS=(${hosts.join(' ')}); RLSTACK_ARTIFACTS=${dir}/artifacts; RLSTACK_RENDERED=${dir}/rendered
RLS_RENDER=(configs/orchestrator-sources.json); render_files orchestrator && echo rendered`,
    );
    expect(out).toContain('rendered');
    const sources = JSON.parse(readFileSync(join(dir, 'rendered/configs/orchestrator-sources.json'), 'utf8')) as { train: { source: { name: string; serve?: { address: string } }[] } };
    const envServers = intellect3.plan.roles.env_servers.filter((e) => e.node !== intellect3.plan.roles.orchestrator.node);
    expect(envServers.length).toBeGreaterThan(0);
    for (const e of envServers) {
      expect(sources.train.source.find((s) => s.name === e.name)!.serve!.address).toBe(`tcp://host-${e.node}.cluster:${e.port}`);
    }
    // a host word of a node that is not in the plan fails the process instead of passing a literal through
    writeFileSync(join(dir, 'artifacts/configs/orchestrator-sources.json'), '{"a": "tcp://${RLSTACK_HOST:999}:1"}');
    expect(() => bash(`${FAIL_STUB}${bashFunctions(NODE_SH, ['render_files'])}
NODE_COUNT=1; RLSTACK_HOSTS=(a); RLSTACK_ARTIFACTS=${dir}/artifacts; RLSTACK_RENDERED=${dir}/rendered; RLS_RENDER=(configs/orchestrator-sources.json); render_files orchestrator`)).toThrow(/not in the plan/);
  });

  it('7. the node check wants every program of its processes in the venv (vllm-router comes only with the disagg extra)', () => {
    expect(NODE_SH).toContain('program=${RLS_CMD[3]:-}');
    expect(NODE_SH).toContain("run 'uv sync --all-extras --all-packages' there");
    const router = intellect3.plan.processes.find((p) => p.name === 'router')!;
    expect(router.command.slice(0, 4)).toEqual(['uv', 'run', '--no-sync', 'vllm-router']);
  });

  it('8. resume takes the latest complete checkpoint in prime-rl layout (no STABLE there); teardown waits only for a checkpoint being written', () => {
    const run = tempDir();
    const step = (n: number, files: string[]) => {
      for (const f of files) {
        mkdirSync(join(run, 'checkpoints', `step_${n}`, f, '..'), { recursive: true });
        writeFileSync(join(run, 'checkpoints', `step_${n}`, f), '');
      }
    };
    step(2, ['trainer/__0_0.distcp', 'trainer/.metadata', 'orchestrator/progress.pt']);
    step(10, ['trainer/__0_0.distcp', 'trainer/.metadata', 'orchestrator/progress.pt']);
    step(12, ['trainer/__0_0.distcp', 'orchestrator/progress.pt']); // DCP .metadata not written yet
    step(14, ['trainer/.metadata']); // no orchestrator progress
    step(16, ['STABLE']); // what the old runtime wanted: not a checkpoint
    mkdirSync(join(run, 'checkpoints', 'step_99999999999999999999'), { recursive: true });
    const functions = bashFunctions(NODE_SH, ['step_numbers', 'checkpoint_complete', 'resume_step', 'checkpoint_in_progress']);
    const vars = `RLSTACK_RUN_DIR=${run}; TRAINER_CHECKPOINT_BASE=${run}`;
    expect(bash(`${functions}\n${vars}; resume_step`)).toBe('10');
    expect(bash(`${functions}\n${vars}; checkpoint_in_progress && echo busy || echo idle`).trim()).toBe('idle');
    step(18, ['trainer/__0_0.distcp']);
    expect(bash(`${functions}\n${vars}; checkpoint_in_progress && echo busy || echo idle`).trim()).toBe('busy');
    // trainer checkpoints elsewhere (checkpoint.dir): the trainer part is read there
    const base = tempDir();
    mkdirSync(join(base, 'checkpoints/step_10/trainer'), { recursive: true });
    writeFileSync(join(base, 'checkpoints/step_10/trainer/.metadata'), '');
    expect(bash(`${functions}\nRLSTACK_RUN_DIR=${run}; TRAINER_CHECKPOINT_BASE=${base}; resume_step`)).toBe('10');
    // both components get the same step
    expect(NODE_SH).toContain('if [[ -n $RLS_RESUME_FLAG ]] && (( RESUME_STEP_SET )); then RLS_CMD+=("$RLS_RESUME_FLAG" "$RESUME_STEP"); fi');
    for (const p of intellect3.plan.processes) expect(p.lifecycle.resume_flag, p.name).toBe(p.role === 'trainer' || p.role === 'orchestrator' ? '--resume.step' : null);
    expect(procFunction(tiny, 'trainer-0')).toContain('RLS_RESUME_FLAG=--resume.step');
    expect(procFunction(tiny, 'orchestrator')).toContain('RLS_RESUME_FLAG=--resume.step');
    expect(procFunction(tiny, 'router')).toContain("RLS_RESUME_FLAG=''");
  });

  it('9. every process gets the node\'s whole environment, less the secrets that are not its own', () => {
    expect(NODE_SH).not.toContain('KEEP_ENV');
    expect(NODE_SH).not.toContain('compgen -e');
    // the filtering loop, run as node.sh runs it inside the process's subshell
    const loop = NODE_SH.slice(NODE_SH.indexOf('    for secret in "${ALL_SECRETS[@]}"; do'), NODE_SH.indexOf('    export PATH="$path_first:$PATH"'));
    const out = bash(`ALL_SECRETS=(HF_TOKEN WANDB_API_KEY); RLS_SECRETS=(HF_TOKEN)\nexport HF_TOKEN=h WANDB_API_KEY=w NCCL_SOCKET_IFNAME=ib0 LD_LIBRARY_PATH=/opt/efa/lib https_proxy=http://proxy:3128\n${loop}\nenv`);
    expect(out).toContain('HF_TOKEN=h');
    expect(out).not.toContain('WANDB_API_KEY');
    for (const kept of ['NCCL_SOCKET_IFNAME=ib0', 'LD_LIBRARY_PATH=/opt/efa/lib', 'https_proxy=http://proxy:3128']) expect(out).toContain(kept);
    expect(NODE_SH).toMatch(/^ALL_SECRETS=\(HF_TOKEN WANDB_API_KEY\)$/m);
  });

  it('10. an expert-parallel DP group gets the head\'s IP on the head and its host name elsewhere', () => {
    const ep = compiled(join(workspace({ 'spec.toml': BASE_MULTINODE }), 'spec.toml'), ['inference.expert_parallel=true', 'inference.nodes_per_replica=2']);
    const engine = ep.plan.processes.find((p) => p.name === 'inference-0')!;
    const word = engine.command[engine.command.indexOf('--vllm.data-parallel-address') + 1]!;
    expect(word).toBe(`\${RLSTACK_ADDR:${engine.node}}`);
    const script = `RLSTACK_HOSTS=(n0 n1 n2); RLSTACK_ADDRS=("\${RLSTACK_HOSTS[@]}"); RLSTACK_ADDRS[NODE]=10.0.0.7; printf %s ${shWord(word)}`;
    expect(bash(`NODE=${engine.node}; ${script}`)).toBe('10.0.0.7');
    expect(bash(`NODE=${engine.node + 1}; ${script}`)).toBe(`n${engine.node}`);
  });

  it('11. a fresh start removes every stale rollout and broadcast step (stale NCCL_READY included); a resume those past its step', () => {
    const run = tempDir();
    for (const d of ['rollouts/step_0', 'rollouts/step_3', 'rollouts/step_7', 'broadcasts/step_0', 'broadcasts/step_5']) mkdirSync(join(run, d), { recursive: true });
    writeFileSync(join(run, 'broadcasts/step_0/NCCL_READY'), '');
    const functions = bashFunctions(NODE_SH, ['step_numbers', 'prune_past_resume']);
    bash(`${functions}\nRLSTACK_RUN_DIR=${run}; prune_past_resume 3`);
    expect(['rollouts/step_0', 'rollouts/step_3', 'rollouts/step_7', 'broadcasts/step_0', 'broadcasts/step_5'].filter((d) => existsSync(join(run, d)))).toEqual(['rollouts/step_0', 'rollouts/step_3', 'broadcasts/step_0']);
    bash(`${functions}\nRLSTACK_RUN_DIR=${run}; prune_past_resume -1`);
    expect(['rollouts/step_0', 'rollouts/step_3', 'broadcasts/step_0'].filter((d) => existsSync(join(run, d)))).toEqual([]);
    expect(NODE_SH).toContain('prune_past_resume "${RESUME_STEP:--1}"');
  });

  it('NCCL_IB_HCA names InfiniBand HCAs only, as prime-rl picks them (not RoCE or Ethernet ports)', () => {
    const bin = tempDir();
    const devinfo = `hca_id:\tmlx5_0\n\ttransport:\t\t\tInfiniBand (0)\n\t\tport:\t1\n\t\t\tstate:\t\t\tPORT_ACTIVE (4)\n\t\t\tlink_layer:\t\tInfiniBand\n\nhca_id:\tmlx5_1\n\ttransport:\t\t\tInfiniBand (0)\n\t\tport:\t1\n\t\t\tstate:\t\t\tPORT_ACTIVE (4)\n\t\t\tlink_layer:\t\tEthernet\n\nhca_id:\tmlx5_2\n\t\tport:\t1\n\t\t\tstate:\t\t\tPORT_ACTIVE (4)\n\t\t\tlink_layer:\t\tInfiniBand\n`;
    writeFileSync(join(bin, 'ibv_devinfo'), `#!/bin/sh\ncat <<'EOF'\n${devinfo}EOF\n`);
    chmodSync(join(bin, 'ibv_devinfo'), 0o755);
    expect(bash(`${bashFunctions(NODE_SH, ['infiniband_hcas'])}\ninfiniband_hcas`, { PATH: `${bin}:${process.env.PATH}` }).trim()).toBe('mlx5_0,mlx5_2');
  });

  it('every component gets the run identity (env servers read PRL_RUN_NAME), and HF_HOME is the shared cache by default', () => {
    expect(NODE_SH).toContain('managed+=("PRL_RUN_ID=$RLSTACK_RUN_ID" "PRL_RUN_NAME=$RUN_NAME" "WANDB_RUN_ID=$RLSTACK_RUN_ID" "WANDB_SHARED_MODE=1")');
    // unconditional, before anything that depends on the process: every role
    const start = NODE_SH.slice(NODE_SH.indexOf('start_process() {'));
    expect(start.indexOf('PRL_RUN_NAME')).toBeLessThan(start.indexOf('if [[ -n $RLS_RESUME_FLAG ]]'));
    expect(start.slice(0, start.indexOf('PRL_RUN_NAME'))).not.toMatch(/\bif \[\[|case /);
    expect(NODE_SH).toContain('[[ -n $HF_HOME_DIR ]] || HF_HOME_DIR=$(dirname "$RLSTACK_RUN_DIR")/hf');
    expect(NODE_SH).toContain('local defaults=("HF_HOME=$HF_HOME_DIR")');
  });
});

describe("node.sh takes each process's lifecycle from the plan (issue 11 part 4)", () => {
  it("stops processes in the plan's stop_rank order, the plan's words and not role names deciding", () => {
    // Real processes with made-up names and ranks: the order comes from the plan's words, not from role names.
    const order = bash(`${bashFunctions(NODE_SH, ['stop_processes'])}
log() { :; }; set_state() { :; }; end_text() { :; }; sweep_sandboxes() { :; }
checkpoint_in_progress() { echo "checkpoint-check" >&2; return 1; }
signal_process() { [[ $2 == TERM ]] && echo "$1"; kill -"$2" "\${PID_OF[$1]}" 2>/dev/null; }
STOP_GRACE_S=5; CHECKPOINT_GRACE_S=1
declare -A PID_OF=() STATE_OF=() STOP_RANK_OF=() CHECKPOINTS_OF=()
for spec in engine:4:0 writer:0:1 feeder:1:0 tools:2:0 gateway:3:0; do
  IFS=: read -r name rank ckpt <<< "$spec"
  sleep 30 & PID_OF[$name]=$!; STATE_OF[$name]=ready; STOP_RANK_OF[$name]=$rank; CHECKPOINTS_OF[$name]=$ckpt
done
stop_processes test 2>/dev/null`).trim().split('\n');
    expect(order).toEqual(['writer', 'feeder', 'tools', 'gateway', 'engine']);
    for (const p of intellect3.plan.processes) {
      expect(p.lifecycle.stop_rank, p.name).toBe({ trainer: 0, orchestrator: 1, env_server: 2, router: 3, inference: 4 }[p.role]);
      expect(p.lifecycle.waits_for_checkpoint, p.name).toBe(p.role === 'trainer');
      expect(p.lifecycle.finishes_run, p.name).toBe(p.role === 'trainer' || p.role === 'orchestrator');
    }
    expect(NODE_SH).not.toMatch(/\bfor role in trainer orchestrator/);
  });
});

describe('node.sh process supervision (issue 11)', () => {
  const harness = (body: string) => {
    const dir = tempDir();
    mkdirSync(join(dir, 'prime-rl'), { recursive: true });
    return `${bashFunctions(NODE_SH, ['start_process', 'process_alive', 'signal_process', 'end_text'])}
log() { printf 'LOG %s\\n' "$*"; }
set_state() { :; }
render_files() { :; }
fail() { echo "FAIL $1: $2"; exit 1; }
declare -A PID_OF=() CHILD_OF=() STATE_OF=() ROLE_OF=() RLS_FN=([sleeper]=p0)
rls_proc_p0() { RLS_ROLE=router; RLS_ENV=(); RLS_SECRETS=(); RLS_RENDER=(); RLS_CMD=(sleep 30); }
ALL_SECRETS=(); PRIME_RL_DIR=${dir}/prime-rl; RLSTACK_LOG_DIR=${dir}; RLSTACK_ARTIFACTS=${dir}; HF_HOME_DIR=${dir}/hf; NCCL_HCA=; RUN_NAME=r; RLSTACK_RUN_ID=abc; SANDBOX_DOCKER=false
${body}`;
  };

  it('a process killed by a signal ends with one line naming the signal, not bash\'s job report', () => {
    const r = spawnSync('bash', ['-c', harness(`start_process sleeper
child=\${CHILD_OF[sleeper]}
[[ -n $child && $child != "\${PID_OF[sleeper]}" ]] && echo "child is its own process"
[[ $(ps -o pgid= -p "$child" | tr -d ' ') == "$child" ]] && echo "child leads its group"
kill -KILL "$child"
for i in 1 2 3 4 5 6 7 8 9 10; do process_alive sleeper || break; sleep 0.2; done
wait "\${PID_OF[sleeper]}"; code=$?
echo "end: $(end_text "$code")"
sleep 0.3; echo done`)], { encoding: 'utf8' });
    const out = r.stdout;
    expect(r.stderr).not.toMatch(/Killed|Terminated/);
    expect(out).toContain('child is its own process');
    expect(out).toContain('child leads its group');
    expect(out).toContain('end: was killed by SIGKILL');
    expect(out).toContain('done');
  });

  it('a stop signals the process group even once the process\'s parent is gone', () => {
    const r = spawnSync('bash', ['-c', harness(`start_process sleeper
child=\${CHILD_OF[sleeper]}
kill -KILL "\${PID_OF[sleeper]}"   # its parent goes first
sleep 0.3
signal_process sleeper KILL
sleep 0.3
state=$(ps -o stat= -p "$child" 2>/dev/null | tr -d ' ')
[[ -z $state || $state == Z* ]] && echo "child gone" || echo "child survived: $state"`)], { encoding: 'utf8' });
    expect(r.stdout).toContain('child gone');
  });

  it('node.sh killed without its teardown (SIGKILL): its guard stops every process group, marks each stopped and the run failed', () => {
    const dir = tempDir();
    const guardStart = NODE_SH.indexOf("GUARD_SCRIPT='");
    const guardScript = NODE_SH.slice(guardStart, NODE_SH.indexOf("\n'\n", guardStart) + 3);
    mkdirSync(join(dir, 'state', 'processes'), { recursive: true });
    const node = harness(`STATE_DIR=${dir}/state; NODE_ID=000; HOST=h; STOP_GRACE_S=2; RLSTACK_LOG_DIR=${dir}
GUARD_GROUPS=${dir}/state/.groups-node-000; GUARD_PID=
${guardScript}
${bashFunctions(NODE_SH, ['start_guard'])}
set_state() { printf '{"name": "%s", "state": "%s", "reason": ""}\\n' "$1" "$2" > "$STATE_DIR/processes/$1.json"; }
start_guard
start_process sleeper
set_state sleeper ready
echo "\${CHILD_OF[sleeper]}" > ${dir}/child
sleep 30`);
    const script = join(dir, 'node-sh-under-test.sh');
    writeFileSync(script, node);
    const r = spawnSync('bash', ['-c', `bash ${shQuote(script)} > ${dir}/out 2>&1 &
node_pid=$!
for i in $(seq 50); do [[ -s ${dir}/child ]] && break; sleep 0.1; done
child=$(cat ${dir}/child)
kill -0 "$child" && echo "process running"
kill -KILL "$node_pid"
for i in $(seq 100); do kill -0 -- "-$child" 2>/dev/null || break; sleep 0.1; done
kill -0 -- "-$child" 2>/dev/null && echo "process group survived" || echo "process group gone"
for i in $(seq 50); do [[ -f ${dir}/state/run.json ]] && break; sleep 0.1; done`], { encoding: 'utf8' });
    expect(r.stdout).toContain('process running');
    expect(r.stdout).toContain('process group gone');
    const run = JSON.parse(readFileSync(join(dir, 'state', 'run.json'), 'utf8'));
    expect(run).toMatchObject({ state: 'failed', first_failure: 'node.sh' });
    expect(run.reason).toContain('node.sh on node 000 (h) ended without its teardown');
    expect(JSON.parse(readFileSync(join(dir, 'state', 'processes', 'sleeper.json'), 'utf8'))).toMatchObject({ state: 'stopped' });
    expect(readFileSync(join(dir, 'node-000.log'), 'utf8')).toMatch(/the guard stopped sleeper/);
  });

  it('a node.sh that ends its own way ends its guard: nothing is stopped twice, the run state stays its own', () => {
    const dir = tempDir();
    const guardStart = NODE_SH.indexOf("GUARD_SCRIPT='");
    const guardScript = NODE_SH.slice(guardStart, NODE_SH.indexOf("\n'\n", guardStart) + 3);
    mkdirSync(join(dir, 'state'), { recursive: true });
    const out = bash(`STATE_DIR=${dir}/state; NODE_ID=000; HOST=h; STOP_GRACE_S=2; RLSTACK_LOG_DIR=${dir}
GUARD_GROUPS=${dir}/state/.groups-node-000; GUARD_PID=
${guardScript}
${bashFunctions(NODE_SH, ['start_guard', 'end_guard'])}
start_guard
guard=$GUARD_PID
sleep 0.3
kill -0 "$guard" && echo "guard running"
end_guard
sleep 0.3
kill -0 "$guard" 2>/dev/null && echo "guard survived" || echo "guard ended"
[[ -n $(ps -eo pgid=,stat= | awk -v g="$guard" '$1 == g && $2 !~ /^Z/') ]] && echo "a child of the guard survived" || echo "its group ended"`);
    expect(out).toContain('guard running');
    expect(out).toContain('guard ended');
    expect(out).toContain('its group ended'); // its sleep carries the run's environment: a sweep would find it
    expect(existsSync(join(dir, 'state', 'run.json'))).toBe(false);
  });

  it('the node log is a file: a closed back-end stream (SIGPIPE) does not kill node.sh', () => {
    const dir = tempDir();
    const script = `exec 3>&1 >> ${dir}/node.log 2>&1\ntrap '' PIPE\n${bashFunctions(NODE_SH, ['log'])}\nNODE_ID=000; HOST=h\nsleep 0.5\nlog "after the pipe closed"\nlog "stopped (exit 0)"`;
    // the reader of node.sh's stdout goes away first, as tee or srun's pipe does at teardown
    execFileSync('bash', ['-c', `bash -c ${shQuote(script)} | head -c 0`], { encoding: 'utf8' });
    expect(readFileSync(join(dir, 'node.log'), 'utf8')).toMatch(/after the pipe closed\n.*stopped \(exit 0\)\n$/);
  });
});
