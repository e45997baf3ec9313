// Stand-in `nvidia-smi` (started by <prime-rl dir>/bin/nvidia-smi). GPU count of this host:
// <prime-rl dir>/fake-gpus/<hostname>, else RLSTACK_FAKE_GPUS, else 8.
import crypto from 'node:crypto';
import fs from 'node:fs';
import { checkKnobFile, ctx, fail, gpuCount } from './lib.mjs';

ctx.program = 'nvidia-smi';
const args = process.argv.slice(2);
checkKnobFile();
const NAME = 'NVIDIA H100 80GB HBM3';
const MEMORY_MIB = 81559;

function out(text) {
  try {
    fs.writeSync(1, text);
  } catch (e) {
    if (e.code === 'EPIPE') process.exit(0); // reader went away (| head)
    throw e;
  }
}

// RLSTACK_STANDIN_FAIL=nvidia-smi:<host>:<anything>: the driver is "broken" on that host.
for (const entry of (process.env.RLSTACK_STANDIN_FAIL ?? '').split(',')) {
  const [program, host] = entry.trim().split(':');
  if (program === 'nvidia-smi' && (host === '*' || host === ctx.host)) {
    fs.writeSync(1, "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.\n");
    process.exit(9);
  }
}

const count = gpuCount();
const uuid = (i) => {
  const h = crypto.createHash('sha256').update(`${ctx.host}/${i}`).digest('hex');
  return `GPU-${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
};
const busId = (i) => `00000000:${(0x18 + i * 0x10).toString(16).toUpperCase().padStart(2, '0')}:00.0`;

if (count === 0) {
  out('No devices were found\n');
  process.exit(6);
}

const FIELDS = {
  index: { unit: '', v: (i) => String(i) },
  name: { unit: '', v: () => NAME },
  uuid: { unit: '', v: (i) => uuid(i) },
  'gpu_name': { unit: '', v: () => NAME },
  'gpu_uuid': { unit: '', v: (i) => uuid(i) },
  'pci.bus_id': { unit: '', v: (i) => busId(i) },
  'memory.total': { unit: ' MiB', v: () => String(MEMORY_MIB) },
  'memory.used': { unit: ' MiB', v: () => '0' },
  'memory.free': { unit: ' MiB', v: () => String(MEMORY_MIB) },
  'driver_version': { unit: '', v: () => '550.54.15' },
  'utilization.gpu': { unit: ' %', v: () => '0' },
  count: { unit: '', v: () => String(count) },
};

if (args.length === 1 && (args[0] === '-L' || args[0] === '--list-gpus')) {
  for (let i = 0; i < count; i++) out(`GPU ${i}: ${NAME} (UUID: ${uuid(i)})\n`);
  process.exit(0);
}

if (args.length === 0) {
  out(`+-----------------------------------------------------------------------------+\n`);
  out(`| NVIDIA-SMI 550.54.15    Driver Version: 550.54.15    CUDA Version: 12.4     |\n`);
  out(`|  rlstack stand-in on ${ctx.host.padEnd(55)}|\n`);
  for (let i = 0; i < count; i++) out(`|  ${String(i).padEnd(3)} ${NAME.padEnd(30)} ${busId(i)}   0MiB / ${MEMORY_MIB}MiB |\n`);
  out(`+-----------------------------------------------------------------------------+\n`);
  process.exit(0);
}

let query;
let format;
for (const a of args) {
  if (a.startsWith('--query-gpu=')) query = a.slice('--query-gpu='.length);
  else if (a.startsWith('--format=')) format = a.slice('--format='.length);
  else fail(`unsupported argument "${a}" (the stand-in knows -L, --list-gpus, --query-gpu=…, --format=csv[,noheader][,nounits])`);
}
if (query === undefined) fail('--format without --query-gpu');
if (format === undefined) {
  out('"--format=" switch is missing. Please try again with this switch included.\n');
  process.exit(2);
}
const opts = format.split(',');
if (opts[0] !== 'csv' || opts.slice(1).some((o) => o !== 'noheader' && o !== 'nounits')) fail(`--format=${format} is not csv[,noheader][,nounits]`);
const fields = query.split(',').map((f) => f.trim());
for (const f of fields) {
  if (!FIELDS[f]) {
    out(`Field "${f}" is not a valid field to query.\n`);
    process.exit(2);
  }
}
const noUnits = opts.includes('nounits');
if (!opts.includes('noheader')) out(fields.map((f) => (FIELDS[f].unit && !noUnits ? `${f} [${FIELDS[f].unit.trim()}]` : f)).join(', ') + '\n');
for (let i = 0; i < count; i++) out(fields.map((f) => FIELDS[f].v(i) + (noUnits ? '' : FIELDS[f].unit)).join(', ') + '\n');
