// Placeholder: routes for tokenize are registered here.
import type { FastifyPluginAsync } from 'fastify';

const tokenizeRoutes: FastifyPluginAsync = async () => {};
export default tokenizeRoutes;
