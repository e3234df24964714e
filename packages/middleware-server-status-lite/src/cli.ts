import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { PlankError } from '@plank/core';
import { scoreboard } from '@plank/scoreboard';
import { collect } from './collect.js';
import { jsonFormat, prometheusFormat, textFormat } from './formats.js';
import { htmlFormat } from './html.js';

const USAGE = `usage: plank-status --scoreboard DIR [--counter FILE] [--workers FILE] [--group-writable] [--json | --format text|json|prometheus|openmetrics|html]
Prints the status page of a running server from its scoreboard directory, without HTTP.
  --scoreboard DIR   the middleware's scoreboard option (required)
  --counter FILE     the middleware's counterFile option: adds Total Accesses and Total kBytes
  --workers FILE     the prefork master's worker list (default: $PLANK_PREFORK_WORKERS)
  --group-writable   trust a group-writable directory (the middleware's groupWritable option)
  --json             the same as --format json
`;

/**
 * `plank-status`: the status page read straight from the scoreboard directory, as Perl's
 * `server-status` script does. Returns the exit code; writes the page to `out`.
 *
 * @example
 * ```ts
 * import { statusCommand } from '@plank/middleware-server-status-lite';
 * process.exitCode = await statusCommand(['--scoreboard', 'var/scoreboard', '--json'], process.stdout, process.stderr);
 * ```
 */
export async function statusCommand(
  argv: string[],
  out: { write(s: string | Uint8Array): unknown },
  err: { write(s: string): unknown },
): Promise<number> {
  let values: ReturnType<typeof parseStatusArgs>;
  try {
    values = parseStatusArgs(argv);
  } catch (e) {
    err.write(`plank-status: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    out.write(USAGE);
    return 0;
  }
  const format = values.json ? 'json' : (values.format ?? 'text');
  if (!values.scoreboard || !['text', 'json', 'prometheus', 'openmetrics', 'html'].includes(format)) {
    err.write(
      `plank-status: ${values.scoreboard ? `unknown format "${format}"` : '--scoreboard DIR is required'}\n${USAGE}`,
    );
    return 2;
  }
  if (!existsSync(values.scoreboard)) {
    err.write(`plank-status: no scoreboard directory at ${values.scoreboard}\n`);
    return 1;
  }
  try {
    const counterFile = values.counter ?? values.counter_file;
    const board = scoreboard({
      dir: values.scoreboard,
      ...(counterFile ? { counterFile } : {}),
      ...(values.workers ? { workersFile: values.workers } : {}),
      groupWritable: values['group-writable'] === true,
      // A command an operator runs (often as another user, with sudo) never writes: dead
      // workers are counted from their slots, and the server folds and removes them.
      readOnly: true,
    });
    const d = await collect(board, undefined);
    const page =
      format === 'json'
        ? `${jsonFormat(d)}\n`
        : format === 'prometheus' || format === 'openmetrics'
          ? prometheusFormat(d, format === 'openmetrics')
          : format === 'html'
            ? htmlFormat(d, 5)
            : Buffer.from(textFormat(d), 'latin1');
    out.write(page);
    return 0;
  } catch (e) {
    err.write(`plank-status: ${e instanceof PlankError ? e.message : (e as Error).stack}\n`);
    return 1;
  }
}

function parseStatusArgs(argv: string[]) {
  return parseArgs({
    args: argv,
    options: {
      scoreboard: { type: 'string' },
      counter: { type: 'string' },
      counter_file: { type: 'string' },
      workers: { type: 'string' },
      'group-writable': { type: 'boolean' },
      json: { type: 'boolean' },
      format: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }).values;
}
