/**
 * run.prime_rl_revision selects the map of prime-rl's config keys that the extra tables are checked against
 * and the generated configs target (emit/prime-rl/maps/config-keys-<rev7>.json, one per revision). A
 * revision without a map is an error: rlstack would check keys that prime-rl at that revision may not have.
 */
import type { Diagnostic } from '../../diagnostics/diagnostic.js';
import { ADD_MAP_COMMAND, MAP_OVERRIDE_ENV, MAPS_DIR, selectMap } from '../../emit/prime-rl/keys.js';
import { report, type Rule } from '../context.js';

export const primeRlRevisionHasAMap: Rule = (ctx) => {
  const revision = ctx.spec.run.prime_rl_revision;
  const map = selectMap(revision);
  if (map.ok) return [];
  const known = map.known.length > 0 ? map.known.map((r) => `"${r}"`).join(', ') : 'none';
  const add = `add a map from a prime-rl checkout at that revision with \`${ADD_MAP_COMMAND}\` (in rlstack's repository; it writes ${MAPS_DIR}/config-keys-<rev7>.json)`;
  let out: Diagnostic;
  if (map.overridden) {
    out = report(ctx, 'RS2508', 'run.prime_rl_revision', {
      message:
        map.reason === 'format'
          ? `${MAP_OVERRIDE_ENV}=${JSON.stringify(map.revision)} is not a prime-rl revision (7 to 40 hex digits of a commit)`
          : `${MAP_OVERRIDE_ENV}=${JSON.stringify(map.revision)} names no stored map of prime-rl's config keys (known revisions: ${known})`,
      hint: `unset ${MAP_OVERRIDE_ENV} to use the map of run.prime_rl_revision, set it to one of ${known}, or ${add}`,
    });
  } else if (map.reason === 'format') {
    out = report(ctx, 'RS2508', 'run.prime_rl_revision', {
      message: `run.prime_rl_revision = ${JSON.stringify(revision)} is not a prime-rl revision (7 to 40 hex digits of a commit, e.g. "559b447")`,
      hint: `use the commit of the checkout at run.prime_rl_dir: \`git -C <prime_rl_dir> rev-parse --short=7 HEAD\`; known revisions: ${known}`,
    });
  } else {
    out = report(ctx, 'RS2508', 'run.prime_rl_revision', {
      message: `run.prime_rl_revision = ${JSON.stringify(revision)}: rlstack has no map of prime-rl's config keys for this revision (known revisions: ${known})`,
      hint: `set run.prime_rl_revision to one of ${known} (and check that revision out on the nodes), or ${add}`,
    });
  }
  return [out];
};
