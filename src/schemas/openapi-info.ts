// Title and description of the generated OpenAPI document.
export const OPENAPI_INFO = {
  title: 'tensortrace',
  version: '0.1.0',
  description:
    'Every matrix inside a language model while it writes: GPT-2 traces with TransformerLens hook names, ' +
    'a live WebSocket stream (see docs/stream-protocol.md, GET /stream), and exact parameter counts and ' +
    'shape flows for the famous model families. Errors are application/problem+json with a stable `code`.',
};
