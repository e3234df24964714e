import { PlankError, type RunningServer, type ServerAdapter } from '@plank/core';
import { urlOf } from './listen.js';
import { OPTION_ERROR, serverArgs } from './options.js';
import { serve } from './serve.js';

const where = 'server node';

/**
 * `plankup -s node` (the default): one node:http server per listen address, in this process.
 * Options: the timeouts in seconds, as Starlet and Starman take them (`--keepalive-timeout`,
 * `--timeout`, `--graceful-timeout`, `--headers-timeout`, `--request-timeout`), and
 * `--body-limit` in bytes.
 */
export const plankServer: ServerAdapter = {
  name: 'node',
  validate(ctx) {
    serverArgs(where, OPTION_ERROR, ctx.options);
  },
  async run(ctx) {
    if (!ctx.app) throw new PlankError(OPTION_ERROR, `${where}: no app was loaded`);
    const { options } = serverArgs(where, OPTION_ERROR, ctx.options);
    const handle = await serve(ctx.app, { ...options, listen: ctx.listen, errors: ctx.errors });
    let resolveClosed: (code: number) => void = () => {};
    const closed = new Promise<number>((resolve) => (resolveClosed = resolve));
    const running: RunningServer = {
      urls: handle.servers.map((server, i) => urlOf(server, ctx.listen[i] as (typeof ctx.listen)[number]).shown),
      async close(options) {
        await handle.close(options);
        resolveClosed(0);
      },
      closed,
    };
    return running;
  },
};
