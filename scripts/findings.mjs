// `npm run findings`: rewrite README.md's "What bnx finds" table from results/*/summary.json
// (framework/report/findings.ts; framework/report/findings.test.ts fails while it is stale).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findingsMarkdown, readResultSummaries, withFindings } from '../dist/framework/report/findings.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = join(root, 'README.md');
writeFileSync(readme, withFindings(readFileSync(readme, 'utf8'), findingsMarkdown(readResultSummaries(join(root, 'results')))));
console.log('README.md: findings rewritten from results/*/summary.json');
