// Stand-in `hf download <org>/<name> [--repo-type model]` (huggingface_hub ≥ 1.0's CLI; prime-rl's uv.lock
// pins huggingface_hub 1.16.1, which no longer ships `huggingface-cli`). node.sh fetches the model once
// into HF_HOME; every process then runs with HF_HUB_OFFLINE=1 and needs it there (lib.mjs checkModelCached;
// prime-rl's trainer/model.py:72-91 uses snapshot_download, which resolves from the same cache).
import fs from 'node:fs';
import path from 'node:path';
import { ctx, fail, hfModelDir, hubOffline, info, say } from './lib.mjs';

export async function main(args) {
  if (args[0] !== 'download') fail(`only "hf download <repo_id> [--repo-type model]" is supported, got ${JSON.stringify(args)}`);
  const rest = args.slice(1);
  const ids = [];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i];
    if (a === '--repo-type' || a.startsWith('--repo-type=')) {
      const v = a.includes('=') ? a.split('=')[1] : rest[++i];
      if (v !== 'model') fail(`--repo-type ${v}: node.sh downloads a model`);
      continue;
    }
    if (a.startsWith('-')) fail(`unsupported hf download option ${a} (the stand-in knows --repo-type)`);
    ids.push(a);
  }
  if (ids.length !== 1) fail(`"hf download" takes exactly one repo id here, got ${JSON.stringify(ids)}`);
  const model = ids[0];
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(model)) fail(`"${model}" is not a Hugging Face repo id <org>/<name>`);
  const home = process.env.HF_HOME;
  if (!home) fail('HF_HOME is not set: the download would land in ~/.cache/huggingface of this node only');
  if (!path.isAbsolute(home)) fail(`HF_HOME=${home} is relative`);
  if (hubOffline()) fail('HF_HUB_OFFLINE=1: cannot download (huggingface_hub.errors.OfflineModeIsEnabled)');
  const repo = hfModelDir(home, model);
  const snapshot = path.join(repo, 'snapshots', 'standin');
  try {
    fs.mkdirSync(snapshot, { recursive: true });
    fs.mkdirSync(path.join(repo, 'refs'), { recursive: true });
    fs.writeFileSync(path.join(repo, 'refs', 'main'), 'standin');
    fs.writeFileSync(path.join(snapshot, 'config.json'), JSON.stringify({ _name_or_path: model, standin: true, host: ctx.host }) + '\n');
  } catch (e) {
    fail(`cannot write into HF_HOME=${home}: ${e.code || e.message}`);
  }
  info(`downloaded ${model} (stand-in)`);
  say(snapshot);
  process.exit(0);
}
