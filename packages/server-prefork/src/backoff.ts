/** First delay after a crash at start-up; it doubles with each failure in a row. */
export const BACKOFF_BASE_MS = 200;
/** The longest pause between two tries. */
export const BACKOFF_CAP_MS = 10_000;

/** The pause before the next worker after `streak` failures in a row (1, 2, ...). */
export function backoffDelay(streak: number): number {
  return Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** Math.max(0, Math.min(streak - 1, 30)));
}

/** The first line of an error text that says something (a stack's message line). */
export function firstLine(text: string): string {
  return (
    text
      .split('\n')
      .find((l) => l.trim() !== '')
      ?.trim() ?? text
  );
}
