import { describe, expect, it } from 'vitest';
import { pgAvailable, redisAvailable, safeUrl } from '../src/services.js';

// What the probes answer for a service that is not there (port 1 refuses on 127.0.0.1).
describe('service probes', () => {
  it('say why PostgreSQL is unreachable, without the password', async () => {
    const check = await pgAvailable('postgres://me:secret@127.0.0.1:1/postgres');
    expect(check).toMatchObject({ service: 'PostgreSQL', available: false });
    expect(check.available === false && check.reason).toMatch(
      /^cannot reach postgres:\/\/me:\*\*\*@127\.0\.0\.1:1\/postgres: /,
    );
  });

  it('say why Redis is unreachable', async () => {
    const check = await redisAvailable('redis://127.0.0.1:1');
    expect(check).toMatchObject({ service: 'Redis', available: false });
    expect(check.available === false && check.reason).toMatch(/^cannot reach redis:\/\/127\.0\.0\.1:1: \S/);
  });

  it('mask only the password of a URL', () => {
    expect(safeUrl('redis://u:p@h:6379/2')).toBe('redis://u:***@h:6379/2');
    expect(safeUrl('not a url')).toBe('(unparsable URL)');
  });
});
