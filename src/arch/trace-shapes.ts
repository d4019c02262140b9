// Shape flow of one trace: the architecture math of src/arch applied to the checkpoint's config and prompt length.
import { normalizeConfig } from './normalize.js';
import { shapeFlow, type ShapesReport } from './shapes.js';

/**
 * The same report as GET /models/{name}/shapes, with seq_len = the number of prompt tokens (no padding).
 * The config was validated when the checkpoint was scanned; should the architecture math still refuse it,
 * the trace goes on without a shape flow (null) rather than failing.
 */
export function traceShapes(config: Record<string, unknown>, seqLen: number): ShapesReport | null {
  try {
    return shapeFlow(normalizeConfig(config), { seqLen, batch: 1 });
  } catch {
    return null;
  }
}
