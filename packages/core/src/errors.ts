/**
 * Every error Plank throws on purpose carries a stable `code` (`PLANK_ERR_*`), listed in
 * the README of the package that throws it, so callers can branch on it and messages can
 * be improved without breaking anyone.
 */
export class PlankError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PlankError';
    this.code = code;
  }
}

/** Builds the error for a bad option value: names the option and shows the value. */
export function optionError(code: string, where: string, option: string, value: unknown, expected: string): PlankError {
  return new PlankError(code, `${where}: option "${option}" ${expected}, got ${show(value)}`);
}

/** A short, printable rendering of any value for error messages. */
export function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (value instanceof RegExp) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json.length > 80 ? `${json.slice(0, 77)}...` : json;
  } catch {
    // fall through: cyclic values print their type
  }
  return Object.prototype.toString.call(value);
}
