// Placeholder: routes for models are registered here.
import type { FastifyPluginAsync } from 'fastify';

const modelsRoutes: FastifyPluginAsync = async () => {};
export default modelsRoutes;
