/** Writes schemas/experiment.schema.json from the TypeBox source (npm run schema). */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, resolve } from 'node:path';
import { PACKAGE_ROOT } from '../util/paths.js';
import { experimentJsonSchema } from './schema.js';

export const SCHEMA_PATH = join(PACKAGE_ROOT, 'schemas', 'experiment.schema.json');

export function renderSchema(): string {
  return JSON.stringify(experimentJsonSchema(), null, 2) + '\n';
}

if (process.argv[1] && fileURLToPath(import.meta.url) === resolve(process.argv[1])) {
  writeFileSync(SCHEMA_PATH, renderSchema());
  console.log(`wrote ${SCHEMA_PATH}`);
}
