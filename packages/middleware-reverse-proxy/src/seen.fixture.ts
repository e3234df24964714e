import { lint, type Env } from '@plank/core';
import { reverseProxy, type ReverseProxyOptions } from './reverse-proxy.js';

/** The env the app behind ReverseProxy sees (a copy), with lint() checking both sides. */
export async function seen(options: ReverseProxyOptions, env: Env): Promise<Env> {
  let inner: Env | undefined;
  const app = lint(
    reverseProxy(options)(
      lint((e) => {
        inner = { ...e };
        return [200, ['Content-Type', 'text/plain'], ['OK']];
      }),
    ),
  );
  await app(env);
  if (inner === undefined) throw new Error('the app was not called');
  return inner;
}
