// npm run openapi: regenerate openapi.yaml from the zod schemas.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PROJECT_ROOT } from '../../src/config.js';
import { renderOpenApiYaml } from './render.js';

const target = path.join(PROJECT_ROOT, 'openapi.yaml');
await writeFile(target, await renderOpenApiYaml());
process.stdout.write(`wrote ${path.relative(process.cwd(), target) || target}\n`);
