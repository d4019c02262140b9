// Stream a file laid out as chunks (views over tensors in memory): exact Content-Length, never one big buffer.
import { Readable } from 'node:stream';
import type { FastifyReply } from 'fastify';

export function sendFile(
  reply: FastifyReply,
  parts: { byteLength: number; chunks: Buffer[] },
  mediaType: string,
  fileName: string,
): FastifyReply {
  return reply
    .type(mediaType)
    .header('content-length', parts.byteLength)
    .header('content-disposition', `attachment; filename="${fileName}"`)
    .send(Readable.from(parts.chunks, { objectMode: false }));
}
