// The peer: a hand-written node:cluster with 2 workers running raw node:http (the default
// scheduling policy, round-robin through the primary on Linux).
import cluster from 'node:cluster';
import { createServer } from 'node:http';

if (cluster.isPrimary) {
  for (let i = 0; i < Number(process.env.WORKERS ?? 2); i++) cluster.fork();
} else {
  createServer((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13' });
    res.end('Hello, World!');
  }).listen(Number(process.env.PORT), '127.0.0.1');
}
