/**
 * The candidate closest to `word`, for a "did you mean" hint, or `undefined` when none is
 * close enough. Case is ignored (`headername` → `headerName`), and a candidate must be
 * within one edit per three characters (at least one), so `fomat` finds `format` and
 * `Acesslog` finds `AccessLog` while unrelated short names suggest nothing.
 *
 * @example
 * ```ts
 * import { didYouMean } from '@plank/core';
 * didYouMean('fomat', ['format', 'file']); // 'format'
 * ```
 */
export function didYouMean(word: string, candidates: Iterable<string>): string | undefined {
  const lower = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate.toLowerCase());
    const allowed = Math.max(1, Math.floor(Math.max(word.length, candidate.length) / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

// Levenshtein distance with adjacent transpositions counted as one edit (`fromat`), one row
// at a time: option and package names are short, so this stays trivial in cost.
function editDistance(a: string, b: string): number {
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1);
      current.push(d);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}
