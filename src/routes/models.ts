// /models: famous architectures (registry) and runnable checkpoints; parameter counts and shape flows, also for any pasted config.json.
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { listModels, resolveModel, type ModelView, type RunnableRef } from '../arch/describe.js';
import { normalizeConfig } from '../arch/normalize.js';
import { countParams } from '../arch/params.js';
import { ArchRegistry, DEFAULT_REGISTRY_DIR } from '../arch/registry.js';
import { shapeFlow } from '../arch/shapes.js';
import type { ArchSpec } from '../arch/spec.js';
import { ProblemSchema } from '../schemas/problem.js';
import {
  HfConfigSchema,
  ModelDetailSchema,
  ModelListQuery,
  ModelListSchema,
  ModelNameParams,
  ParamsReportSchema,
  ShapesQuery,
  ShapesReportSchema,
} from '../schemas/models.js';

export interface ModelRoutesOptions {
  /** The architecture registry; default: loaded from <project>/models/registry (start-up fails on a bad entry). */
  registry?: ArchRegistry;
}

function summary(v: ModelView) {
  const pub = v.entry?.published;
  return {
    name: v.name,
    display_name: v.display_name,
    family: v.family,
    model_type: v.model_type,
    aliases: v.aliases,
    released: v.released,
    runnable: v.runnable,
    in_registry: v.in_registry,
    published: { total: pub?.total ?? null, active: pub?.active ?? null },
    computed: { total: v.params.total, active: v.params.active, active_non_embedding: v.params.active_non_embedding },
  };
}

function paramsBody(model: string | null, spec: ArchSpec) {
  const p = countParams(spec);
  // layer_kinds already says which layer is which; the per-layer list would repeat it n_layers times.
  const { layers: _perLayer, ...described } = spec;
  return {
    model,
    model_type: spec.modelType,
    family: spec.family,
    ...p,
    notes: [...spec.notes],
    spec: described as unknown as Record<string, unknown>,
  };
}

function shapesBody(model: string | null, spec: ArchSpec, q: { seq_len?: number; batch?: number }) {
  return { model, model_type: spec.modelType, ...shapeFlow(spec, { seqLen: q.seq_len, batch: q.batch }) };
}

const modelsRoutes: FastifyPluginAsync<ModelRoutesOptions> = async (app, opts) => {
  const registry = opts.registry ?? ArchRegistry.load(DEFAULT_REGISTRY_DIR);
  const r = app.withTypeProvider<ZodTypeProvider>();
  const runnable = (): RunnableRef[] =>
    app.models.list().map((m) => ({ name: m.name, config: (m as { config?: Record<string, unknown> }).config }));
  const errors = { 400: ProblemSchema, 404: ProblemSchema, 422: ProblemSchema };

  r.get(
    '/models',
    {
      schema: {
        tags: ['models'],
        summary: 'List known architectures and runnable models',
        description:
          'Registry entries (famous model families, parameter math only) and installed checkpoints (runnable: true). Filter with ?family=llama.',
        querystring: ModelListQuery,
        response: { 200: ModelListSchema, 400: ProblemSchema },
      },
    },
    async (req) => {
      const models = listModels(registry, runnable(), req.query.family).map(summary);
      return { count: models.length, models };
    },
  );

  r.get(
    '/models/:name',
    {
      schema: {
        tags: ['models'],
        summary: 'One model: config, sources, published and computed counts',
        description:
          'Names are matched case-insensitively, with or without the org prefix, treating "_", "." and "-" alike (llama-3-8b, meta-llama/Meta-Llama-3-8B).',
        params: ModelNameParams,
        response: { 200: ModelDetailSchema, 404: ProblemSchema },
      },
    },
    async (req) => {
      await app.models.refresh(req.params.name); // a checkpoint imported after start
      const v = resolveModel(registry, runnable(), req.params.name);
      return {
        ...summary(v),
        config: v.config,
        library_defaults: v.entry?.library_defaults ?? {},
        source: v.entry?.source ?? {},
        published_detail: v.entry?.published ?? null,
      };
    },
  );

  r.get(
    '/models/:name/params',
    {
      schema: {
        tags: ['models'],
        summary: 'Parameter counts of a known model',
        description: 'Counted from the config (never a stored total); see docs/arch-math.md for the conventions.',
        params: ModelNameParams,
        response: { 200: ParamsReportSchema, 404: ProblemSchema },
      },
    },
    async (req) => {
      await app.models.refresh(req.params.name); // a checkpoint imported after start
      const v = resolveModel(registry, runnable(), req.params.name);
      return paramsBody(v.name, v.spec);
    },
  );

  r.get(
    '/models/:name/shapes',
    {
      schema: {
        tags: ['models'],
        summary: 'Shape flow of one forward pass of a known model',
        description:
          "Stages of one representative layer per layer kind, with repeat counts; seq_len defaults to min(1024, the model's context), batch to 1.",
        params: ModelNameParams,
        querystring: ShapesQuery,
        response: { 200: ShapesReportSchema, ...errors },
      },
    },
    async (req) => {
      await app.models.refresh(req.params.name); // a checkpoint imported after start
      const v = resolveModel(registry, runnable(), req.params.name);
      return shapesBody(v.name, v.spec, req.query);
    },
  );

  r.post(
    '/models/params',
    {
      schema: {
        tags: ['models'],
        summary: 'Parameter counts of any config.json',
        description: 'POST the contents of a Hugging Face config.json as the body.',
        body: HfConfigSchema,
        response: { 200: ParamsReportSchema, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req) => paramsBody(null, normalizeConfig(req.body)),
  );

  r.post(
    '/models/shapes',
    {
      schema: {
        tags: ['models'],
        summary: 'Shape flow of any config.json',
        description:
          'POST the contents of a Hugging Face config.json as the body; seq_len and batch go in the query string.',
        querystring: ShapesQuery,
        body: HfConfigSchema,
        response: { 200: ShapesReportSchema, 400: ProblemSchema, 422: ProblemSchema },
      },
    },
    async (req) => shapesBody(null, normalizeConfig(req.body), req.query),
  );
};
export default modelsRoutes;
