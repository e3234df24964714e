// Prefork with 2 workers vs a hand-written node:cluster with 2 workers and vs Starlet with 2
// workers and keep-alive, all answering the same hello.
import { hasStarlet } from '../peers.mjs';

const node = process.execPath;

export default {
  servers: [
    { name: 'plank prefork (2 workers)', command: [node, 'servers/prefork-hello.mjs'] },
    { name: 'node cluster (2 workers)', command: [node, 'servers/node-cluster.mjs'] },
    {
      name: 'Starlet (2 workers, keep-alive)',
      command: [
        'plackup',
        '-E',
        'deployment',
        '-s',
        'Starlet',
        '--host',
        '127.0.0.1',
        '--port',
        '{port}',
        '--max-workers=2',
        '--max-keepalive-reqs=1000',
        '--keepalive-timeout=5',
        'servers/starlet-hello.psgi',
      ],
      available: hasStarlet,
    },
  ],
  ratios: [
    ['plank prefork (2 workers)', 'node cluster (2 workers)', 0.95],
    ['plank prefork (2 workers)', 'Starlet (2 workers, keep-alive)', 2.5],
  ],
};
