// Hello on fastify, two ways: `node fastify-hello.mjs plain` is fastify's own route (the
// peer); `node fastify-hello.mjs plank` is a Plank app served by @plank/server-fastify.
// Both answer what raw-node.mjs answers.
import Fastify from 'fastify';
import { serve } from '@plank/server-fastify';

const port = Number(process.env.PORT);
if (process.argv[2] === 'plank') {
  const hello = () => [200, ['Content-Type', 'text/plain', 'Content-Length', '13'], ['Hello, World!']];
  await serve(hello, { host: '127.0.0.1', port });
} else {
  const fastify = Fastify();
  fastify.get('/', (_request, reply) => {
    reply.header('Content-Type', 'text/plain').send('Hello, World!');
  });
  await fastify.listen({ host: '127.0.0.1', port });
}
