import type { Coding } from './encoder.js';

/**
 * Picks the coding to use from an Accept-Encoding value (RFC 9110 §12.5.3): the highest
 * q-value among `offered` wins, ties go to the order of `offered` (the server's
 * preference), `*` stands for every coding not named, `q=0` refuses, and `x-gzip` means
 * gzip (§8.4.1.3). An entry whose q-value is not a valid qvalue is ignored rather than
 * guessed at. Returns undefined when nothing offered is acceptable; identity is then sent
 * (a 406 would help no browser).
 */
export function chooseCoding(acceptEncoding: string | undefined, offered: readonly Coding[]): Coding | undefined {
  if (!acceptEncoding) return undefined;
  const q = new Map<string, number>();
  for (const entry of acceptEncoding.split(',')) {
    const [rawName = '', ...params] = entry.split(';');
    let name = rawName.trim().toLowerCase();
    if (name === '') continue;
    if (name === 'x-gzip') name = 'gzip';
    let weight = 1;
    let valid = true;
    for (const param of params) {
      const [key = '', value = ''] = param.split('=').map((s) => s.trim());
      if (key.toLowerCase() !== 'q') continue;
      if (!/^(?:0(?:\.\d{0,3})?|1(?:\.0{0,3})?)$/.test(value)) valid = false;
      else weight = Number(value);
    }
    // When a coding is listed twice, the higher weight counts: the header is the client's, not ours to punish.
    if (valid) q.set(name, Math.max(weight, q.get(name) ?? 0));
  }
  const star = q.get('*');
  let best: Coding | undefined;
  let bestQ = 0;
  for (const coding of offered) {
    const weight = q.get(coding) ?? star ?? 0;
    if (weight > bestQ) {
      best = coding;
      bestQ = weight;
    }
  }
  return best;
}
