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
    source:
      'NVIDIA RTX A6000 datasheet (tensor performance 309.7 TFLOPS with sparsity = 154.8 dense, 768 GB/s GDDR6); ' +
      'memory from run-and-models.md §3.1. Note: prime-rl MFU falls back to 312 TF for this GPU (§2 notes)',
  },
]);

/** Catalogue entry by id (case-insensitive). */
export function findGpu(id: string): GpuSpec | undefined {
  const wanted = id.trim().toLowerCase();
  return GPUS.find((g) => g.id === wanted);
}
