/**
 * The one catalogue of diagnostic codes. Codes are stable: never renumber or reuse one; retire a code by
 * leaving it here with `retired: true`. Ranges:
 *   RS00xx reading and parsing files          RS01xx composition (extends, --set)
 *   RS02xx schema (keys, types, ranges)       RS10xx cluster, pools, backends
 *   RS11xx model and catalogues               RS12xx trainer parallelism and prime-rl trainer rules
 *   RS13xx inference                          RS14xx orchestrator
 *   RS15xx weight transfer                    RS16xx environments
 *   RS17xx sandbox fleet                      RS18xx env vars and secrets
 *   RS19xx placement (nodes and GPUs)         RS20xx memory and capacity (will it fit?)
 *   RS21xx throughput (will it run well?)
 *   RS25xx prime-rl keys (extra tables, maps)  RS40xx launch, status and stop
 *   RS41xx the ssh back end
 *   RS9xxx internal errors (a bug in rlstack)
 */
export type Severity = 'error' | 'warning' | 'info';

export interface CodeInfo {
  readonly severity: Severity;
  readonly title: string;
}

export const CODES = {
  RS0001: { severity: 'error', title: 'spec file not found or unreadable' },
  RS0002: { severity: 'error', title: 'file is not UTF-8 text' },
  RS0003: { severity: 'error', title: 'TOML syntax error' },
  RS0004: { severity: 'error', title: 'spec file is empty' },
  RS0005: { severity: 'error', title: 'output file already exists' },
  RS0006: { severity: 'error', title: 'string, number or key too long' },
  RS0007: { severity: 'error', title: 'command-line usage error (unknown option, missing argument)' },

  RS0101: { severity: 'error', title: 'extends cycle' },
  RS0102: { severity: 'error', title: 'unknown preset' },
  RS0103: { severity: 'error', title: 'extended file not found' },
  RS0104: { severity: 'error', title: 'malformed --set' },
  RS0105: { severity: 'error', title: '--set of an unknown key' },
  RS0106: { severity: 'error', title: 'extends has the wrong type' },
  RS0107: { severity: 'error', title: 'unset of an unknown or malformed key' },

  RS0201: { severity: 'error', title: 'unknown key' },
  RS0202: { severity: 'error', title: 'wrong type' },
  RS0203: { severity: 'error', title: 'value out of range' },
  RS0204: { severity: 'error', title: 'value not among the allowed ones' },
  RS0205: { severity: 'error', title: 'value does not match the required pattern' },
  RS0206: { severity: 'error', title: 'required key missing' },
  RS0207: { severity: 'error', title: 'invalid value' },

  RS1001: { severity: 'error', title: 'unknown pool' },
  RS1002: { severity: 'error', title: 'role does not fit its pool' },
  RS1003: { severity: 'error', title: 'role size missing or ambiguous' },
  RS1004: { severity: 'error', title: 'local backend runs on one node' },
  RS1005: { severity: 'error', title: 'ssh backend needs one host per node' },
  RS1006: { severity: 'error', title: 'invalid hostlist expression' },
  RS1007: { severity: 'error', title: 'unknown GPU type' },
  RS1008: { severity: 'warning', title: 'nodes left unused' },
  RS1009: { severity: 'error', title: 'GPU role on a pool without GPUs' },
  RS1010: { severity: 'error', title: 'invalid Slurm value' },
  RS1011: { severity: 'error', title: 'ports out of range' },
  RS1012: { severity: 'error', title: 'time-limit warning at or before the start' },
  RS1013: { severity: 'error', title: 'invalid ssh host name' },
  RS1014: { severity: 'error', title: 'prime_rl_dir must be an absolute path on this back end' },

  RS1101: { severity: 'error', title: 'unknown model' },
  RS1102: { severity: 'error', title: 'sequence length exceeds the model' },
  RS1103: { severity: 'error', title: 'incomplete model architecture' },

  RS1201: { severity: 'error', title: 'context parallel does not divide the trainer world' },
  RS1202: { severity: 'error', title: 'dp_replicate does not divide the trainer world' },
  RS1203: { severity: 'error', title: 'expert parallel does not divide the experts' },
  RS1204: { severity: 'error', title: 'expert parallel does not divide dp_shard x cp' },
  RS1205: { severity: 'error', title: 'expert parallel is not a multiple of cp' },
  RS1206: { severity: 'error', title: 'context parallel does not divide the attention heads' },
  RS1207: { severity: 'error', title: 'expert parallel on a dense model' },

  RS1301: { severity: 'error', title: 'TP does not divide the GPUs per node' },
  RS1302: { severity: 'error', title: 'TP does not divide the attention heads' },
  RS1303: { severity: 'warning', title: 'TP exceeds the KV heads: KV is replicated' },
  RS1304: { severity: 'error', title: 'inference GPUs are not a multiple of TP' },
  RS1305: { severity: 'error', title: 'replica spans nodes without expert parallel' },
  RS1306: { severity: 'error', title: 'inference nodes are not a multiple of nodes_per_replica' },
  RS1307: { severity: 'error', title: 'max_model_len exceeds the model' },

  RS1401: { severity: 'error', title: 'batch size not a multiple of group size' },
  RS1402: { severity: 'error', title: 'max_inflight below group size' },
  RS1403: { severity: 'error', title: 'max_tokens exceeds max_model_len' },
  RS1404: { severity: 'error', title: 'orchestrator placement has no node' },
  RS1406: { severity: 'warning', title: 'max_tokens exceeds the trainer sequence length' },
  RS1407: { severity: 'error', title: 'mean prompt not below the mean rollout' },

  RS1501: { severity: 'error', title: 'LoRA needs filesystem weight broadcast' },
  RS1502: { severity: 'error', title: 'NCCL weight broadcast needs an inference pool' },
  RS1504: { severity: 'error', title: 'fp8 weights not possible with this setup' },

  RS1601: { severity: 'error', title: 'duplicate environment name' },
  RS1602: { severity: 'error', title: 'no train environment' },
  RS1603: { severity: 'error', title: 'reserved environment name' },
  RS1604: { severity: 'error', title: 'sandboxed environment without a sandbox provider' },
  RS1605: { severity: 'warning', title: 'environment shards that do not spread' },

  RS1701: { severity: 'error', title: 'docker sandbox fleet has no nodes' },
  RS1702: { severity: 'warning', title: 'sandbox fleet configured but unused' },
  RS1703: { severity: 'warning', title: 'sandboxes with host networking' },
  RS1704: { severity: 'error', title: 'hosted sandboxes without a credential' },

  RS1801: { severity: 'error', title: 'invalid environment variable name' },
  RS1802: { severity: 'error', title: 'reserved environment variable' },
  RS1803: { severity: 'error', title: 'secret set as a plain env value' },
  RS1804: { severity: 'error', title: 'invalid secret name' },
  RS1805: { severity: 'warning', title: 'secret delivered to no role' },
  RS1806: { severity: 'error', title: 'environment and command beyond the OS argument limit' },

  RS1901: { severity: 'error', title: 'nodes of a pool are over-subscribed' },
  RS1902: { severity: 'error', title: 'GPUs of a node are over-subscribed' },
  RS1903: { severity: 'error', title: 'two processes on one node share a port' },

  RS2001: { severity: 'error', title: 'trainer does not fit in GPU memory' },
  RS2002: { severity: 'error', title: 'trainer node does not fit in host memory' },
  RS2003: { severity: 'error', title: 'run dir does not fit on disk' },
  RS2004: { severity: 'error', title: 'inference does not fit in GPU memory' },
  RS2005: { severity: 'warning', title: 'KV cache cannot hold the rollouts in flight' },
  RS2007: { severity: 'info', title: 'memory estimate extrapolated' },
  RS2008: { severity: 'error', title: 'sandbox fleet node over capacity' },
  RS2009: { severity: 'warning', title: 'memory nearly full' },
  RS2010: { severity: 'warning', title: 'trainer fits on the estimate but not on its upper bound' },
  RS2011: { severity: 'warning', title: 'vLLM start-up memory outside gpu_memory_utilization does not fit' },
  RS2012: { severity: 'error', title: 'unreadable vLLM version' },
  RS2013: { severity: 'error', title: 'vLLM batched-token budget below its sequence count' },
  RS2014: { severity: 'error', title: 'plan --auto found no candidate that plans clean' },
  RS2101: { severity: 'warning', title: 'one side of the RL loop idles most of each step' },
  RS2102: { severity: 'warning', title: 'the weight transfer takes a large share of each step' },

  RS2501: { severity: 'error', title: 'unknown key in a prime-rl extra table' },
  RS2502: { severity: 'error', title: 'extra table overrides a key the spec sets' },
  RS2503: { severity: 'warning', title: 'extra table repeats a value the spec sets' },
  RS2504: { severity: 'error', title: 'extra table sets a key rlstack manages at start' },
  RS2505: { severity: 'error', title: 'wrong type in a prime-rl extra table' },
  RS2506: { severity: 'error', title: 'environment args override a key rlstack sets' },
  RS2507: { severity: 'warning', title: 'extra table of a component the run does not start' },
  RS2508: { severity: 'error', title: 'no map of prime-rl config keys for this revision' },
  RS2509: { severity: 'error', title: 'rlstack writes a key the selected prime-rl revision does not take' },

  RS4001: { severity: 'error', title: 'secret missing from the launcher environment' },
  RS4002: { severity: 'error', title: 'run dir already holds a run' },
  RS4003: { severity: 'error', title: 'cannot write the run dir' },
  RS4004: { severity: 'error', title: 'back end unavailable' },
  RS4005: { severity: 'error', title: 'submission refused' },
  RS4006: { severity: 'error', title: 'the run failed to start' },
  RS4007: { severity: 'error', title: 'no run found' },
  RS4008: { severity: 'warning', title: 'processes left after stop' },
  RS4009: { severity: 'error', title: 'resume across a change prime-rl cannot resume from' },
  RS4010: { severity: 'error', title: 'run dir holds files rlstack did not make' },
  RS4011: { severity: 'error', title: 'run dir file damaged or not accessible' },
  RS4012: { severity: 'error', title: 'the run is already running or being launched' },
  RS4013: { severity: 'error', title: 'compiled folder cannot be launched as it is (edited, moved, incomplete)' },

  RS4101: { severity: 'error', title: 'ssh: host key unknown or changed' },
  RS4102: { severity: 'error', title: 'ssh: node unreachable or authentication failed' },
  RS4103: { severity: 'error', title: 'ssh: preflight failed on a node' },
  RS4104: { severity: 'error', title: 'ssh: node slower than connect_timeout_s' },
  RS4105: { severity: 'error', title: 'ssh: no hosts for the plan' },
  RS4106: { severity: 'warning', title: 'ssh: processes of the run left on a node' },
  RS4107: { severity: 'error', title: 'ssh: could not start node.sh on a node' },
  RS4108: { severity: 'error', title: 'preflight needs the ssh back end' },
  RS4109: { severity: 'error', title: 'ssh: ProxyJump cycle' },
  RS4110: { severity: 'error', title: 'ssh: client configuration file unusable' },

  RS9001: { severity: 'error', title: 'internal error' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
