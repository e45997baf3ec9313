/**
 * GPU catalogue.
 *
 * `memoryGib` is what torch reports as total device memory (`torch.cuda.get_device_properties().total_memory`
 * in GiB), i.e. the denominator of prime-rl's benchmark `peak_memory` percentages — not the marketing
 * capacity. `bf16Tflops` is the dense (no structured sparsity) bf16 tensor-core peak; `bandwidthTBs` is
 * HBM/GDDR bandwidth in TB/s (10^12 bytes/s).
 */

export interface GpuSpec {
  /** Catalogue id used in specs, e.g. 'h100'. */
  id: string;
  /** Human-readable name. */
  name: string;
  /** Total device memory as reported by torch, GiB. */
  memoryGib: number;
  /** Dense bf16 tensor-core peak, TFLOP/s. */
  bf16Tflops: number;
  /** Memory bandwidth, TB/s. */
  bandwidthTBs: number;
  /** fp8 tensor cores (Ada, Hopper, Blackwell): vLLM's fp8 weights and KV cache run on it. */
  fp8: boolean;
  /** Where the numbers come from. */
  source: string;
}

export const GPUS: readonly GpuSpec[] = Object.freeze<GpuSpec[]>([
  {
    id: 'a100-80g',
    name: 'NVIDIA A100 80GB SXM',
    memoryGib: 79.15,
    bf16Tflops: 312,
    bandwidthTBs: 2.039,
    fp8: false,
    source:
      'NVIDIA A100 Tensor Core GPU datasheet (80GB SXM: BF16 312 TFLOPS dense / 624 sparse, 2,039 GB/s); ' +
      'memory = torch total_memory of an 80 GB A100 (79.15 GiB)',
  },
  {
    id: 'h100',
    name: 'NVIDIA H100 SXM 80GB',
    memoryGib: 79.18,
    bf16Tflops: 989,
    bandwidthTBs: 3.35,
    fp8: true,
    source:
      'NVIDIA H100 Tensor Core GPU datasheet (SXM: BF16 1,979 TFLOPS with sparsity = 989 dense, 3.35 TB/s); ' +
      'memory and 989 TF peak as used by prime-rl (run-and-models.md §2 notes, §3.1)',
  },
  {
    id: 'h200',
    name: 'NVIDIA H200 SXM 141GB',
    memoryGib: 139.8,
    bf16Tflops: 989,
    bandwidthTBs: 4.8,
    fp8: true,
    source:
      'NVIDIA H200 Tensor Core GPU datasheet (SXM: BF16 1,979 TFLOPS with sparsity = 989 dense, 4.8 TB/s); ' +
      'memory and 989 TF peak as used by prime-rl (run-and-models.md §2 notes, §3.1)',
  },
  {
    id: 'b200',
    name: 'NVIDIA B200 180GB',
    memoryGib: 178.36,
    bf16Tflops: 2250,
    bandwidthTBs: 8.0,
    fp8: true,
    source:
      'NVIDIA HGX B200 / DGX B200 datasheet (per GPU: BF16 4.5 PFLOPS with sparsity = 2.25 PF dense, 8 TB/s); ' +
      'memory and 2.25 PF peak as used by prime-rl (run-and-models.md §2 notes, §3.1)',
  },
  {
    id: 'a6000',
    name: 'NVIDIA RTX A6000 48GB',
    memoryGib: 47.4,
    bf16Tflops: 154.8,
    bandwidthTBs: 0.768,
    fp8: false,
    source:
      'NVIDIA RTX A6000 datasheet (tensor performance 309.7 TFLOPS with sparsity = 154.8 dense, 768 GB/s GDDR6); ' +
      'memory from run-and-models.md §3.1. Note: prime-rl MFU falls back to 312 TF for this GPU (§2 notes)',
  },
  {
    id: 'a100-40g',
    name: 'NVIDIA A100 40GB SXM',
    memoryGib: 39.59,
    bf16Tflops: 312,
    bandwidthTBs: 1.555,
    fp8: false,
    source:
      'NVIDIA A100 Tensor Core GPU datasheet (40GB SXM: BF16 312 TFLOPS dense / 624 sparse, 1,555 GB/s HBM2); ' +
      'memory: the "39.59 GiB total capacity" of a CUDA out-of-memory message on this part (torch total_memory)',
  },
  {
    id: 'h100-nvl',
    name: 'NVIDIA H100 NVL 94GB',
    memoryGib: 93.0,
    bf16Tflops: 835,
    bandwidthTBs: 3.9,
    fp8: true,
    source:
      'NVIDIA H100 NVL datasheet (per GPU: BF16 1,671 TFLOPS with sparsity = 835 dense, 3,938 GB/s, 94 GB HBM3); ' +
      'memory: the "total capacity of 93.00 GiB" of a CUDA out-of-memory message on an H100 NVL (torch total_memory)',
  },
  {
    id: 'h20',
    name: 'NVIDIA H20 96GB',
    memoryGib: 95.0,
    bf16Tflops: 148,
    bandwidthTBs: 4.0,
    fp8: true,
    source:
      'NVIDIA H20 product brief (BF16 148 TFLOPS dense, FP8 296, 96 GB HBM3 at 4.0 TB/s); ' +
      'memory: the ~95.1 GiB CUDA reports as visible on an H20 (torch total_memory), rounded down',
  },
  {
    id: 'gh200',
    name: 'NVIDIA GH200 Grace Hopper 96GB',
    memoryGib: 94.88,
    bf16Tflops: 989,
    bandwidthTBs: 4.0,
    fp8: true,
    source:
      'NVIDIA GH200 Grace Hopper Superchip datasheet (Hopper GPU: BF16 1,979 TFLOPS with sparsity = 989 dense, 96 GB HBM3 at 4 TB/s; the 144 GB HBM3e variant: describe it inline with [cluster.gpu_spec]); ' +
      'memory: the "total capacity of 94.88 GiB" of a CUDA out-of-memory message on a GH200 whose nvidia-smi shows 97,871 MiB (torch total_memory)',
  },
  {
    id: 'l40s',
    name: 'NVIDIA L40S 48GB',
    memoryGib: 44.4,
    bf16Tflops: 362,
    bandwidthTBs: 0.864,
    fp8: true,
    source:
      'NVIDIA L40S datasheet (BF16 tensor 733 TFLOPS with sparsity = 362 dense, 48 GB GDDR6 with ECC at 864 GB/s); ' +
      'memory: nvidia-smi shows 46,068 MiB with ECC on (44.99 GiB); torch reports 44.40 GiB on an L40 and 44.43 GiB on an RTX 6000 Ada, ' +
      'the same AD102 board memory, so 44.4',
  },
  // No torch report of a B300 was found: nvidia-smi's total less what CUDA keeps for itself, which the parts
  // with both figures show to be 0.4-0.85 GiB (0.70 on B200). Marketing capacity is no guide here: "80GB"
  // H100s show 81,559 MiB (binary-ish), "288GB" B300s 275,040 MiB (decimal).
  {
    id: 'b300',
    name: 'NVIDIA B300 (Blackwell Ultra) 288GB',
    memoryGib: 267.8,
    bf16Tflops: 2250,
    bandwidthTBs: 8.0,
    fp8: true,
    source:
      'NVIDIA HGX B300 datasheet (per GPU: 288 GB HBM3e at 8 TB/s; BF16 36 PFLOPS sparse per 8 GPUs = 2.25 PF dense, as B200 — Blackwell Ultra raises FP4, not BF16); ' +
      'memory: nvidia-smi shows 275,040 MiB on a "NVIDIA B300 SXM6 AC" (268.59 GiB: the 288 GB are decimal) less the 0.70 GiB CUDA keeps on a B200 ' +
      '(183,359 MiB = 179.06 GiB in nvidia-smi, 178.36 GiB in torch), rounded down',
  },
]);

/** A GPU the catalogue lacks, as the spec describes it (`[cluster.gpu_spec]`, or a pool's). */
export interface InlineGpu {
  name?: string;
  memory_gib: number;
  bf16_tflops: number;
  bandwidth_tbs: number;
  fp8?: boolean;
}

export function inlineGpu(id: string, spec: InlineGpu, path: string): GpuSpec {
  return {
    id,
    name: spec.name ?? id,
    memoryGib: spec.memory_gib,
    bf16Tflops: spec.bf16_tflops,
    bandwidthTBs: spec.bandwidth_tbs,
    fp8: spec.fp8 ?? false,
    source: `described in the spec (${path})`,
  };
}

/** Catalogue entry by id (case-insensitive). */
export function findGpu(id: string): GpuSpec | undefined {
  const wanted = id.trim().toLowerCase();
  return GPUS.find((g) => g.id === wanted);
}
