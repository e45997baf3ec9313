/** `plan --auto`: search the choices a user tunes by hand for predicted throughput, keeping every rule and the memory fit. */
export { bestSplit, searchAuto, searchLine, type AutoOptions } from './search.js';
export { applyOverrides, overridesKey, splitAxis, type SplitAxis } from './space.js';
export { FIT_WARNINGS } from './evaluate.js';
export { layerText } from './layer.js';
export * from './types.js';
