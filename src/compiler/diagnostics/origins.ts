/**
 * A problem with a value the user did not write in their own file — inherited from a preset or another
 * extended file, or rlstack's default — says so and points at the user's file as well (TypeScript-style
 * related locations): the fix goes there, not into the preset.
 */
import { describeOrigin, type Provenance } from '../load/provenance.js';
import type { Diagnostic } from './diagnostic.js';

export function relateToUserFile(diagnostics: readonly Diagnostic[], provenance: Provenance, userFile: string): Diagnostic[] {
  return diagnostics.map((d) => {
    if (d.severity === 'info' || d.path === undefined || d.related) return d;
    const origin = provenance.get(d.path);
    // A --set or a plan --auto override is not in any file: there is no file to point at instead.
    if (!origin || origin.source === 'set' || origin.source === 'auto') return d;
    if (origin.source === 'default') {
      return { ...d, related: [{ message: `${d.path} is rlstack's default, written nowhere: set it in ${userFile}`, file: userFile }] };
    }
    if (origin.file === userFile) return d;
    return { ...d, related: [{ message: `${d.path} is set by ${describeOrigin(origin)}, not by ${userFile}: override it in ${userFile} (a value, or unset = ["${d.path}"] to drop it)`, file: userFile }] };
  });
}
