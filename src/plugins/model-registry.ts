// Runnable-model registry plugin: decorates app.models (checkpoints found under MODELS_DIR).
import fp from 'fastify-plugin';

export interface RunnableModelInfo {
  name: string;
  dir: string;
  loaded: boolean;
}

export interface ModelRegistry {
  list(): RunnableModelInfo[];
}

declare module 'fastify' {
  interface FastifyInstance {
    models: ModelRegistry;
  }
}

export default fp(
  async (app) => {
    app.decorate('models', { list: () => [] } satisfies ModelRegistry);
  },
  { name: 'model-registry', dependencies: ['config'] },
);
