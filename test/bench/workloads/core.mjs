// The foundation's workload: a hello response on raw node:http vs Plank's server-node, with
// an empty builder and with ContentLength + Runtime.
const node = process.execPath;

export default {
  servers: [
    { name: 'raw node:http', command: [node, 'servers/raw-node.mjs'] },
    { name: 'plank empty builder', command: [node, 'servers/plank-hello.mjs', 'empty'] },
    { name: 'plank ContentLength+Runtime', command: [node, 'servers/plank-hello.mjs', 'mw'] },
  ],
  ratios: [
    ['plank empty builder', 'raw node:http', 0.95],
    ['plank ContentLength+Runtime', 'raw node:http'],
  ],
};
