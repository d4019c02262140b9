// Placeholder: routes for trace are registered here.
import type { FastifyPluginAsync } from 'fastify';

const traceRoutes: FastifyPluginAsync = async () => {};
export default traceRoutes;
