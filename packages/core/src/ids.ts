import { randomBytes } from 'node:crypto';

let last = 0;
let seq = 0;

/**
 * Time-ordered ids (`prefix_` + 9 chars of milliseconds + 3 of sequence + 10 random, base36):
 * sorting by id sorts by creation, which keeps list pages and keyset cursors stable.
 */
export function newId(prefix: string): string {
  const now = Date.now();
  if (now === last) seq++;
  else {
    last = now;
    seq = 0;
  }
  const time = now.toString(36).padStart(9, '0');
  const s = (seq % 46656).toString(36).padStart(3, '0');
  const rand = BigInt(`0x${randomBytes(7).toString('hex')}`)
    .toString(36)
    .padStart(11, '0')
    .slice(-10);
  return `${prefix}_${time}${s}${rand}`;
}
