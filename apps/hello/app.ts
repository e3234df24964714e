import { builder } from '@plank/core';

// The smallest Plank app: a builder around one handler. `plankup app.ts` serves it.
export default builder(({ enable }) => {
  enable('ContentLength');
  enable('Runtime');
  return (env) => [
    200,
    ['Content-Type', 'text/plain; charset=utf-8'],
    [`Hello from Plank: ${env.REQUEST_METHOD} ${env.PATH_INFO}\n`],
  ];
});
