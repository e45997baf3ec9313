/** The model: known shape, sequence lengths within what it supports. */
import { MODELS } from '../../catalog/models.js';
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { didYouMean } from '../../diagnostics/did-you-mean.js';
import { report, type Rule } from '../context.js';
import { EXPERT_COUNT_KEYS, expertCountOf, expertWidthOf } from '../../plan/derive.js';

export const modelKnown: Rule = (ctx) => {
  if (ctx.derived.arch) return [];
  const { arch, name } = ctx.spec.model;
  if (arch) {
    const ids = MODELS.map((m) => m.id);
    const guess = didYouMean(arch, ids);
    return [report(ctx, 'RS1101', 'model.arch', { message: `model.arch = "${arch}" is not in the catalogue`, hint: `${guess ? `did you mean "${guess}"? ` : ''}catalogue ids: ${ids.join(', ')}` })];
  }
  const names = MODELS.flatMap((m) => m.hfIds);
  const guess = didYouMean(name, names);
  return [
    report(ctx, 'RS1101', 'model.name', {
      message: `model ${name} is not in the catalogue, so its shape is unknown`,
      hint: `${guess ? `did you mean "${guess}"? ` : ''}set model.arch to a catalogue id of the same shape, or describe it in [model.architecture] (config.json names)`,
    }),
  ];
};

export const architectureComplete: Rule = (ctx) => {
  const a = ctx.spec.model.architecture;
  if (!a) return [];
  const out: Diagnostic[] = [];
  const experts = expertCountOf(a);
  const named = EXPERT_COUNT_KEYS.filter((key) => a[key] !== undefined);
  const other = named.find((key) => a[key] !== a[named[0]!]);
  if (other) {
    out.push(report(ctx, 'RS1103', `model.architecture.${other}`, { message: `${named[0]} = ${a[named[0]!]} and ${other} = ${a[other]} disagree`, hint: `${named.join(', ')} are names of one number (the routed experts): set one of them` }));
  }
  if (experts > 0) {
    if (a.num_experts_per_tok === undefined) out.push(report(ctx, 'RS1103', 'model.architecture', { message: `an MoE architecture (${experts} experts) needs num_experts_per_tok`, hint: "copy num_experts_per_tok from the model's config.json" }));
    if (expertWidthOf(a) === undefined) {
      out.push(report(ctx, 'RS1103', 'model.architecture', { message: `an MoE architecture (${experts} experts) needs moe_intermediate_size`, hint: "copy moe_intermediate_size from the model's config.json (a config that names the experts num_local_experts uses intermediate_size for their width)" }));
    }
    if (a.num_experts_per_tok !== undefined && a.num_experts_per_tok > experts) {
      out.push(report(ctx, 'RS1103', 'model.architecture.num_experts_per_tok', { message: `num_experts_per_tok = ${a.num_experts_per_tok} exceeds the ${experts} experts`, hint: `at most ${experts}` }));
    }
  }
  if (a.head_dim === undefined && a.hidden_size % a.num_attention_heads !== 0) {
    out.push(report(ctx, 'RS1103', 'model.architecture.head_dim', { message: `hidden_size ${a.hidden_size} is not a multiple of ${a.num_attention_heads} heads, so head_dim cannot be derived`, hint: 'set head_dim from config.json' }));
  }
  if (a.num_key_value_heads !== undefined && a.num_attention_heads % a.num_key_value_heads !== 0) {
    out.push(report(ctx, 'RS1103', 'model.architecture.num_key_value_heads', { message: `${a.num_attention_heads} attention heads are not a multiple of ${a.num_key_value_heads} KV heads`, hint: 'check config.json' }));
  }
  return out;
};

export const sequenceWithinModel: Rule = (ctx) => {
  const arch = ctx.derived.arch;
  if (!arch) return [];
  const max = ctx.derived.modelMaxPositions;
  const out: Diagnostic[] = [];
  if (ctx.spec.model.seq_len > max) {
    out.push(report(ctx, 'RS1102', 'model.seq_len', { message: `model.seq_len = ${ctx.spec.model.seq_len} exceeds the ${max} positions of ${arch.id}`, hint: `at most ${max}; longer contexts need a model variant with more positions (rope scaling)` }));
  }
  if (ctx.derived.maxModelLen > max && ctx.spec.inference.max_model_len !== undefined) {
    out.push(report(ctx, 'RS1307', 'inference.max_model_len', { message: `inference.max_model_len = ${ctx.derived.maxModelLen} exceeds the ${max} positions of ${arch.id}`, hint: `at most ${max}` }));
  }
  return out;
};
