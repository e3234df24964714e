import { describe, expect, it } from 'vitest';
import type { StatusData, WorkerLine } from './collect.js';
import { duration, jsonFormat, prometheusFormat, textFormat } from './formats.js';
import { htmlFormat } from './html.js';
import { pickFormat } from './server-status-lite.js';

const line = (w: Partial<WorkerLine> & { pid: number }): WorkerLine => ({
  state: w.status === undefined ? 'starting' : w.status === 'A' ? 'busy' : 'idle',
  status: undefined,
  remote_addr: undefined,
  host: undefined,
  method: undefined,
  uri: undefined,
  protocol: undefined,
  ss: undefined,
  slot: 0,
  generation: undefined,
  requests: 0,
  bytes: 0,
  ...w,
});

// 3 days, 2 hours, 5 minutes and 9 seconds after the start.
const data: StatusData = {
  startedAt: 1_700_000_000_500,
  now: (1_700_000_000 + 3 * 86400 + 2 * 3600 + 5 * 60 + 9) * 1000 + 100,
  totals: { accesses: 123, bytes: 45_678 },
  busy: 1,
  idle: 2,
  workers: [
    line({
      pid: 20060,
      status: 'A',
      remote_addr: '127.0.0.1',
      host: 'localhost:10001',
      method: 'GET',
      uri: '/slow?x=1',
      protocol: 'HTTP/1.1',
      ss: 3,
      slot: 1,
      requests: 9,
    }),
    line({
      pid: 20061,
      status: '_',
      remote_addr: '::1',
      host: '-',
      method: 'POST',
      uri: '/caf\u00c3\u00a9',
      protocol: 'HTTP/1.0',
      ss: 12,
      slot: 2,
    }),
    line({ pid: 20062, slot: 3 }),
  ],
};

describe('the text page', () => {
  it('is the Perl module page, line for line and byte for byte', () => {
    const lines = textFormat(data).split('\n');
    expect(lines).toEqual([
      'ServerUptime: 3 days, 2 hours, 5 minutes, 9 seconds',
      'Uptime: 1700000000',
      'Total Accesses: 123',
      'Total kBytes: 45',
      'BusyWorkers: 1',
      'IdleWorkers: 2',
      '--',
      'pid status remote_addr host method uri protocol ss',
      '20060 A 127.0.0.1 localhost:10001 GET /slow?x=1 HTTP/1.1 3',
      '20061 _ ::1 - POST /caf\u00c3\u00a9 HTTP/1.0 12',
      // A worker with no slot yet: its pid and seven empty fields, as Perl joins them.
      '20062       ',
      '',
    ]);
    // The URI's bytes go out unchanged (UTF-8 é stays two bytes).
    expect(Buffer.from(textFormat(data), 'latin1').includes(Buffer.from('/caf\u00e9'))).toBe(true);
  });

  it('leaves out the totals without a counter file and warns without a scoreboard, as Perl does', () => {
    expect(textFormat({ ...data, totals: undefined, workers: undefined })).toBe(
      'ServerUptime: 3 days, 2 hours, 5 minutes, 9 seconds\nUptime: 1700000000\nWARN: Scoreboard has been disabled\n',
    );
  });

  it('spells durations as Perl does, where a whole minute is still "60 seconds"', () => {
    expect(duration(0)).toBe('0 seconds');
    expect(duration(60)).toBe('60 seconds');
    expect(duration(61)).toBe('1 minutes, 1 seconds');
    expect(duration(86401)).toBe('1 days, 1 seconds');
  });
});

describe('the JSON document', () => {
  it('has the Perl keys, with its top-level numbers as strings and per-worker pid and ss as numbers', () => {
    const doc = JSON.parse(jsonFormat(data));
    expect(Object.keys(doc).sort()).toEqual([
      'BusyWorkers',
      'IdleWorkers',
      'TotalAccesses',
      'TotalKbytes',
      'Uptime',
      'stats',
    ]);
    expect(doc).toMatchObject({
      Uptime: '1700000000',
      TotalAccesses: '123',
      TotalKbytes: '45',
      BusyWorkers: '1',
      IdleWorkers: '2',
    });
    expect(doc.stats[0]).toEqual({
      pid: 20060,
      status: 'A',
      remote_addr: '127.0.0.1',
      host: 'localhost:10001',
      method: 'GET',
      uri: '/slow?x=1',
      protocol: 'HTTP/1.1',
      ss: 3,
      state: 'busy',
    });
    expect(doc.stats[1].uri).toBe('/caf\u00e9');
    expect(doc.stats[2]).toEqual({ pid: 20062, state: 'starting' });
    expect(JSON.parse(jsonFormat({ ...data, workers: undefined, totals: undefined }))).toEqual({
      Uptime: '1700000000',
      WARN: 'Scoreboard has been disabled',
    });
  });
});

describe('the Prometheus exposition', () => {
  it('has HELP and TYPE for every family and one sample per worker', () => {
    const text = prometheusFormat(data);
    expect(text).toContain('# TYPE plank_http_requests_total counter\nplank_http_requests_total 123\n');
    expect(text).toContain('plank_workers{state="busy"} 1\nplank_workers{state="idle"} 2\n');
    expect(text).toContain('plank_worker_busy{pid="20060",slot="1"} 1\n');
    expect(text).toContain('plank_worker_request_age_seconds{pid="20061",slot="2"} 12\n');
    expect(text).not.toContain('pid="20062",slot="3"} 12');
    expect(text).not.toContain('# EOF');
  });

  it('names counter families without _total and ends with # EOF in OpenMetrics', () => {
    const text = prometheusFormat(data, true);
    expect(text).toContain('# TYPE plank_http_requests counter\nplank_http_requests_total 123\n');
    expect(text.endsWith('# EOF\n')).toBe(true);
  });
});

describe('the HTML page', () => {
  it('escapes every value and refreshes itself', () => {
    const evil = {
      ...data,
      workers: [line({ pid: 1, status: 'A', uri: '/<script>alert(1)</script>', host: '"><img src=x>' })],
    };
    const html = htmlFormat(evil, 7);
    expect(html).toContain('<meta http-equiv="refresh" content="7">');
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('<td>/&#60;script&#62;alert(1)&#60;/script&#62;</td>');
    expect(html).toContain('<td>&#34;&#62;&#60;img src=x&#62;</td>');
  });
  it("draws each worker's state: busy, idle, starting, retiring", () => {
    const html = htmlFormat(
      {
        ...data,
        workers: [
          line({ pid: 1, slot: 1, status: 'A', method: 'GET', uri: '/a' }),
          line({ pid: 2, slot: 2, status: '_' }),
          line({ pid: 3, slot: 3 }),
          line({ pid: 4, slot: 4, status: 'A', method: 'GET', uri: '/b', state: 'retiring' }),
        ],
      },
      5,
    );
    expect([...html.matchAll(/<span class="worker (\w+)" title="([^"]*)">/g)].map((m) => [m[1], m[2]])).toEqual([
      ['busy', 'pid 1, slot 1: busy GET /a'],
      ['idle', 'pid 2, slot 2: idle'],
      ['starting', 'pid 3, slot 3: starting'],
      ['retiring', 'pid 4, slot 4: retiring GET /b'],
    ]);
    expect(html).toContain('<tr class="retiring"><td>4</td><td>4</td><td>A</td><td>retiring</td>');
  });
});

describe('pickFormat()', () => {
  it.each([
    ['json', undefined, 'json'],
    ['format=json', undefined, 'json'],
    ['jsonp=1', undefined, 'text'],
    ['format=prometheus', undefined, 'prometheus'],
    ['format=prometheus', 'application/openmetrics-text; version=1.0.0', 'openmetrics'],
    ['format=html', undefined, 'html'],
    ['', 'text/html,application/xhtml+xml', 'html'],
    ['auto', 'text/html', 'text'],
    ['', '*/*', 'text'],
  ])('reads query %j with Accept %j as %s', (query, accept, format) => {
    expect(pickFormat(query, accept)).toBe(format);
  });
});
