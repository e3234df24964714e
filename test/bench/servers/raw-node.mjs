// The peer: node:http with nothing in between, answering what the Plank hello apps answer.
import { createServer } from 'node:http';

createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '13' });
  res.end('Hello, World!');
}).listen(Number(process.env.PORT), '127.0.0.1');
