// server-fastify's workload: hello from a Plank app on fastify vs fastify's own route, with
// raw node:http and Plank on server-node alongside for scale.
const node = process.execPath;

export default {
  servers: [
    { name: 'fastify', command: [node, 'servers/fastify-hello.mjs', 'plain'] },
    { name: 'plank on fastify', command: [node, 'servers/fastify-hello.mjs', 'plank'] },
    { name: 'plank on server-node', command: [node, 'servers/plank-hello.mjs', 'empty'] },
    { name: 'raw node:http', command: [node, 'servers/raw-node.mjs'] },
  ],
  ratios: [
    ['plank on fastify', 'fastify', 0.9],
    ['plank on fastify', 'plank on server-node'],
  ],
};
