// The adaptive pool benchmark's app: /spin runs 5 ms of synchronous work (a CPU-bound app),
// /wait answers after 1 s on a timer (an I/O-bound one).
export default function poolApp(env) {
  if (env.PATH_INFO === '/wait')
    return new Promise((resolve) =>
      setTimeout(() => resolve([200, ['Content-Type', 'text/plain'], ['waited\n']]), 1000),
    );
  for (const end = performance.now() + 5; performance.now() < end; );
  return [200, ['Content-Type', 'text/plain'], ['spun\n']];
}
