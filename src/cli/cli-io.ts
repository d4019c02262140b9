// What the model CLIs need from the process (streams, env), injectable so tests can call main() directly.
import { parseArgs } from 'node:util';
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

type ParseArgsOptions = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/**
 * Parse `<one positional> [--options]` with --help: the parsed values and the positional,
 * or the exit code when the command line was bad (2) or help was printed (0).
 */
export function parseOneArgCli<O extends NonNullable<ParseArgsOptions>>(
  argv: string[],
  io: CliIo,
  usage: string,
  options: O,
  what: string,
):
  | {
      values: ReturnType<typeof parseArgs<{ args: string[]; allowPositionals: true; options: O }>>['values'];
      arg: string;
    }
  | number {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, options });
  } catch (err) {
    io.err(`${(err as Error).message}\n\n${usage}\n`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    io.out(`${usage}\n`);
    return 0;
  }
  if (parsed.positionals.length !== 1) {
    io.err(`Expected exactly one ${what}.\n\n${usage}\n`);
    return 2;
  }
  return { values: parsed.values, arg: parsed.positionals[0] as string };
}
