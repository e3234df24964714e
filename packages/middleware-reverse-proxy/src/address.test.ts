import { describe, expect, test } from 'vitest';
import { formatV6, parseIp, parseNode, parseV6 } from './address.js';

describe('parseNode', () => {
  test.each([
    ['1.2.3.4', '1.2.3.4', undefined],
    ['0.0.0.0', '0.0.0.0', undefined],
    ['255.255.255.255', '255.255.255.255', undefined],
    ['1.2.3.4:8080', '1.2.3.4', '8080'],
    ['::1', '::1', undefined],
    ['[::1]', '::1', undefined],
    ['[::1]:443', '::1', '443'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1', undefined],
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1', undefined],
    ['::ffff:10.1.2.3', '10.1.2.3', undefined],
    ['[::ffff:10.1.2.3]:99', '10.1.2.3', '99'],
    ['0:0:0:0:0:ffff:a01:203', '10.1.2.3', undefined],
    ['::', '::', undefined],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0', undefined],
  ])('reads %j as %s (port %s)', (input, text, port) => {
    const node = parseNode(input);
    expect(node?.ip.text).toBe(text);
    expect(node?.port).toBe(port);
  });

  test.each([
    '127.1',
    '0177.0.0.1',
    '0x7f.0.0.1',
    '2130706433',
    '010.0.0.1',
    '256.0.0.1',
    '1.2.3.4.5',
    '1.2.3',
    '1.2.3.4:',
    '1.2.3.4:65536',
    '1.2.3.4:-1',
    ' 1.2.3.4',
    '[1.2.3.4]',
    '[::1',
    '[::1]x',
    '::ffff:0177.0.0.1',
    '::ffff:127.1',
    'fe80::1%eth0',
    '1::2::3',
    '1:2:3:4:5:6:7:8:9',
    '12345::',
    'unknown',
    '_hidden',
    '',
  ])('refuses %j', (input) => {
    expect(parseNode(input)).toBeUndefined();
  });

  test('reads ::127.0.0.1 as the IPv4-compatible address it is, not as 127.0.0.1', () => {
    expect(parseIp('::127.0.0.1')?.text).toBe('::7f00:1');
  });
});

describe('formatV6', () => {
  test('compresses the longest run of zero groups, the first one on a tie, and never a single group', () => {
    expect(formatV6(parseV6('1:0:0:2:0:0:0:3') as number[])).toBe('1:0:0:2::3');
    expect(formatV6(parseV6('1:0:0:2:0:0:3:4') as number[])).toBe('1::2:0:0:3:4');
    expect(formatV6(parseV6('1:0:2:3:4:5:6:7') as number[])).toBe('1:0:2:3:4:5:6:7');
  });
});
