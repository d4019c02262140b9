// Levenshtein distance and "did you mean" suggestions (unknown model names, misspelt request fields).

/** Edits (insert, delete, substitute) turning a into b; O(|a|*|b|) time, O(|b|) memory. */
export function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The known words closest to `word` (case-insensitive, at most `limit`) within a third of its length in edits (at
 * least 2); `_` and `-` are ignored ("topk" -> "top_k"). Words that are not close ("text" -> "prompt") come from
 * the caller's `synonyms`.
 */
export function closestWords(
  word: string,
  known: readonly string[],
  limit = 3,
  synonyms: Readonly<Record<string, string>> = {},
): string[] {
  const w = word.toLowerCase().slice(0, 100);
  const hit = synonyms[w];
  if (hit && known.includes(hit)) return [hit];
  const squash = (s: string) => s.toLowerCase().replaceAll(/[_-]/g, '');
  const max = Math.max(2, Math.floor(w.length / 3));
  return known
    .map((k) => ({ k, d: squash(k) === squash(w) ? 0 : editDistance(w, k.toLowerCase()) }))
    .filter((x) => x.d <= max)
    .sort((a, b) => a.d - b.d || a.k.localeCompare(b.k))
    .slice(0, limit)
    .map((x) => x.k);
}
