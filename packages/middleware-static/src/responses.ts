import type { Response } from '@plank/core';

// Plack's wording for its plain-text errors; nosniff so no browser renders them as HTML.
const TEXT: Record<number, string> = {
  400: 'bad request',
  403: 'forbidden',
  404: 'not found',
  405: 'method not allowed',
  412: 'precondition failed',
  416: 'range not satisfiable',
};

/** A small plain-text response for an error status, with extra headers appended. */
export function plain(status: number, extra: string[] = []): Response {
  const body = TEXT[status] ?? String(status);
  return [
    status,
    [
      'Content-Type',
      'text/plain; charset=utf-8',
      'Content-Length',
      String(body.length),
      'X-Content-Type-Options',
      'nosniff',
      ...extra,
    ],
    [body],
  ];
}

export function methodNotAllowed(): Response {
  return plain(405, ['Allow', 'GET, HEAD']);
}
