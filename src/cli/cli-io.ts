// What the model CLIs need from the process (streams, env), injectable so tests can call main() directly.
import { ProblemError } from '../errors/problem-error.js';
import { ConfigError } from '../config.js';

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** True when stderr is a terminal (progress redraws one line instead of printing many). */
  isTty: boolean;
}

export const processIo: CliIo = {
  out: (t) => process.stdout.write(t),
  err: (t) => process.stderr.write(t),
  env: process.env,
  isTty: Boolean(process.stderr.isTTY),
};

/** Expected failures become one line with their stable code; anything else keeps its message (still no stack). */
export function describeCliError(err: unknown): string {
  if (err instanceof ProblemError) return `Error (${err.code}): ${err.detail}`;
  if (err instanceof ConfigError) return err.message;
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e.code === 'string' && e.message) return `Error (${e.code}): ${e.message}`;
  return `Unexpected error: ${err instanceof Error ? err.message : String(err)}`;
}
