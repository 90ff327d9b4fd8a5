import { Ajv, type SchemaValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { LinearRegExp, linearRegExpEngine } from './linear-regex.js';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

/**
 * The ajv instance of the json-schema scorer, with everything an output can make slow replaced:
 * - `pattern` / `patternProperties` run on RE2 (`LinearRegExp`), not backtracking RegExp;
 * - the `url` format, whose ajv-formats RegExp takes 45 s on a 384 KB string, is the same
 *   language written for RE2;
 * - `uniqueItems`, quadratic in ajv for objects and arrays (76 s for 32,000 objects), is linear.
 */
export function createAjv(): Ajv {
  const ajv = addFormats(new Ajv({ allErrors: true, strict: false, code: { regExp: linearRegExpEngine } }));
  ajv.addFormat('url', (s: string) => URL_FORMAT.test(s));
  ajv.removeKeyword('uniqueItems');
  const uniqueItems: SchemaValidateFunction = (schema: boolean, data: unknown[]) => {
    const pair = schema ? firstDuplicate(data) : null;
    if (!pair) return true;
    const [i, j] = pair;
    const message = `must NOT have duplicate items (items ## ${j} and ${i} are identical)`;
    uniqueItems.errors = [{ keyword: 'uniqueItems', message, params: { i, j } }];
    return false;
  };
  ajv.addKeyword({ keyword: 'uniqueItems', type: 'array', schemaType: 'boolean', errors: true, validate: uniqueItems });
  return ajv;
}

/**
 * The duplicate ajv reports — the largest index `i` equal to an earlier item, and the latest such
 * earlier `j` — by hashing a canonical text of each item (object keys sorted): linear, where ajv
 * compares every pair.
 */
export function firstDuplicate(items: unknown[]): [number, number] | null {
  const seen = new Map<string, number>();
  let pair: [number, number] | null = null;
  items.forEach((item, i) => {
    const key = canonical(item);
    const j = seen.get(key);
    if (j !== undefined) pair = [i, j];
    seen.set(key, i);
  });
  return pair;
}

function canonical(v: unknown): string {
  if (v === null || typeof v !== 'object') return v === undefined ? 'undefined' : JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
    .join(',')}}`;
}

// ajv-formats' `url` (flags iu), with its three negative lookaheads — no 10.x, 127.x, 169.254.x,
// 192.168.x, 172.16–31.x host — written as the IPv4 addresses they allow, and `\S+(?::\S*)?@` as
// the `\S+@` it equals. test/scorers-bounded.test.ts compares both on the private ranges' borders.
const OCTET = '(?:1?\\d{1,2}|2[0-4]\\d|25[0-5])';
const LAST_OCTET = '(?:[1-9]\\d?|1\\d\\d|2[0-4]\\d|25[0-4])';
/** [1-9]\d?|1\d\d|2[01]\d|22[0-3] without 10, 127, 169, 172, 192. */
const FIRST_OCTET =
  '(?:[1-9]|1[1-9]|[2-9]\\d|1(?:[01]\\d|2[0-689]|[3-5]\\d|6[0-8]|7[013-9]|8\\d|9[013-9])|2[01]\\d|22[0-3])';
const IPV4 = [
  `${FIRST_OCTET}\\.${OCTET}\\.${OCTET}`,
  `169\\.(?:\\d{1,2}|1\\d\\d|2[0-4]\\d|25[0-35])\\.${OCTET}`, // not 169.254
  `192\\.(?:\\d{1,2}|1(?:[0-57-9]\\d|6[0-79])|2[0-4]\\d|25[0-5])\\.${OCTET}`, // not 192.168
  `172\\.(?:\\d|0\\d|1[0-5]|3[2-9]|[4-9]\\d|1\\d\\d|2[0-4]\\d|25[0-5])\\.${OCTET}`, // not 172.16–172.31
]
  .map((head) => `${head}\\.${LAST_OCTET}`)
  .join('|');
const LABEL = '(?:[a-z0-9\\u{00a1}-\\u{ffff}]+-)*[a-z0-9\\u{00a1}-\\u{ffff}]+';
const HOST = `${LABEL}(?:\\.${LABEL})*(?:\\.(?:[a-z\\u{00a1}-\\u{ffff}]{2,}))`;
export const URL_FORMAT = new LinearRegExp(
  `^(?:https?|ftp):\\/\\/(?:\\S+@)?(?:${IPV4}|${HOST})(?::\\d{2,5})?(?:\\/[^\\s]*)?$`,
  'iu',
);
