// Turn zod issues into plain sentences ("body.top_k: must be at most 100").
import type { z } from 'zod';

type Issue = z.core.$ZodIssue;

function where(prefix: string, path: PropertyKey[]): string {
  const parts = path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('');
  const at = `${prefix}${parts}`.replace(/^\./, '');
  return at === '' ? 'the request' : at;
}

/** One sentence per issue, e.g. "querystring.seq_len: Too big: expected number to be <=131072". */
export function describeIssue(issue: Issue, prefix = ''): string {
  return `${where(prefix, issue.path)}: ${issue.message}`;
}

export function describeIssues(issues: readonly Issue[], prefix = ''): string {
  return issues.map((i) => describeIssue(i, prefix)).join('; ');
}
