// Render the OpenAPI document from the zod route schemas (used by the generator and the drift test).
import { buildApp } from '../../src/app.js';

/** The spec as YAML, exactly as committed in openapi.yaml. */
export async function renderOpenApiYaml(): Promise<string> {
  const app = await buildApp({ logger: false, env: {}, config: { MODEL_LOADING: 'lazy' } });
  try {
    await app.ready();
    const header = '# Generated from the zod schemas by `npm run openapi`; do not edit by hand.\n';
    return header + app.swagger({ yaml: true });
  } finally {
    await app.close();
  }
}
