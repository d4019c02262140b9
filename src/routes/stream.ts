// Placeholder: routes for stream are registered here.
import type { FastifyPluginAsync } from 'fastify';

const streamRoutes: FastifyPluginAsync = async () => {};
export default streamRoutes;
