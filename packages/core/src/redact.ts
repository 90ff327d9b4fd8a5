/**
 * A connection URL (PostgreSQL, Redis) with its password replaced by `***`, safe for logs and
 * error messages; `(unparsable URL)` when it is not a URL at all (which may still hold a secret).
 *
 * @example
 * redactUrl('redis://u:p@h:6379/2'); // 'redis://u:***@h:6379/2'
 */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}
