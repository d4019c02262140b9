// Placeholder: routes for web are registered here.
import type { FastifyPluginAsync } from 'fastify';

const webRoutes: FastifyPluginAsync = async () => {};
export default webRoutes;
