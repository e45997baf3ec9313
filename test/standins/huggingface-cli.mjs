// Stand-in `huggingface-cli download <model>` (node.sh fetches the model once into HF_HOME; every process
// then runs with HF_HUB_OFFLINE=1 and needs it there: lib.mjs checkModelCached).
import fs from 'node:fs';
import path from 'node:path';
import { ctx, fail, hfModelDir, info, say } from './lib.mjs';

export async function main(args) {
  if (args[0] !== 'download') fail(`only "huggingface-cli download <model>" is supported, got ${JSON.stringify(args)}`);
  if (args.length !== 2) fail(`"huggingface-cli download" takes exactly one model, got ${JSON.stringify(args.slice(1))}`);
  const model = args[1];
  if (!/^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(model)) fail(`"${model}" is not a Hugging Face repo id <org>/<name>`);
  const home = process.env.HF_HOME;
  if (!home) fail('HF_HOME is not set: the download would land in ~/.cache/huggingface of this node only');
  if (!path.isAbsolute(home)) fail(`HF_HOME=${home} is relative`);
  if (process.env.HF_HUB_OFFLINE === '1') fail('HF_HUB_OFFLINE=1: cannot download');
  const snapshot = path.join(hfModelDir(home, model), 'snapshots', 'standin');
  try {
    fs.mkdirSync(snapshot, { recursive: true });
    fs.mkdirSync(path.join(hfModelDir(home, model), 'refs'), { recursive: true });
    fs.writeFileSync(path.join(hfModelDir(home, model), 'refs', 'main'), 'standin');
    fs.writeFileSync(path.join(snapshot, 'config.json'), JSON.stringify({ _name_or_path: model, standin: true, host: ctx.host }) + '\n');
  } catch (e) {
    fail(`cannot write into HF_HOME=${home}: ${e.code || e.message}`);
  }
  info(`downloaded ${model} (stand-in)`);
  say(snapshot);
  process.exit(0);
}
