import { testApp } from '@plank/test';
import { describe, expect, it } from 'vitest';
import app from './app.js';

describe('apps/hello', () => {
  it('greets with the method and path, timed and with a length', async () => {
    await testApp(app, async (request) => {
      const res = await request('/world');
      expect(res.status).toBe(200);
      expect(res.text).toBe('Hello from Plank: GET /world\n');
      expect(res.headers['content-length']).toBe(String(res.body.length));
      expect(res.headers['x-runtime']).toMatch(/^\d+\.\d{6}$/);
    });
  });
});
