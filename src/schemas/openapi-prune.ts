// Drop component schemas no route references (the zod provider emits an input and an output copy of every named schema).

type Json = unknown;

function collectRefs(node: Json, into: Set<string>): void {
  if (Array.isArray(node)) {
    for (const v of node) collectRefs(v, into);
  } else if (node && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string' && v.startsWith('#/components/schemas/')) {
        into.add(v.slice('#/components/schemas/'.length));
      } else {
        collectRefs(v, into);
      }
    }
  }
}

/** Keep only the component schemas reachable from `paths` (following refs between components). */
export function pruneUnusedSchemas<T extends { paths?: Json; components?: { schemas?: Record<string, Json> } }>(
  doc: T,
): T {
  const schemas = doc.components?.schemas;
  if (!schemas) return doc;
  const keep = new Set<string>();
  collectRefs(doc.paths, keep);
  const queue = [...keep];
  while (queue.length > 0) {
    const name = queue.pop() as string;
    const found = new Set<string>();
    collectRefs(schemas[name], found);
    for (const f of found) {
      if (!keep.has(f)) {
        keep.add(f);
        queue.push(f);
      }
    }
  }
  const pruned = Object.fromEntries(Object.entries(schemas).filter(([name]) => keep.has(name)));
  return { ...doc, components: { ...doc.components, schemas: pruned } };
}
