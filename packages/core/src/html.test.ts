import { describe, expect, it } from 'vitest';
import { escapeHtml } from './index.js';

describe('escapeHtml', () => {
  it('escapes the five HTML-significant characters as numeric references and nothing else', () => {
    expect(escapeHtml(`<a href="x" title='y'>&</a>`)).toBe(
      '&#60;a href=&#34;x&#34; title=&#39;y&#39;&#62;&#38;&#60;/a&#62;',
    );
    expect(escapeHtml('plain, é, &#60; escaped twice')).toBe('plain, é, &#38;#60; escaped twice');
  });
});
