import { publishedSchema } from '../../compiler/spec/schema-walk.js';
import { EXIT } from '../exit-codes.js';
import type { Output } from '../output.js';

export function schemaCommand(io: Output): number {
  io.json(publishedSchema());
  return EXIT.ok;
}
