/**
 * Substring search in linear time. `String.prototype.includes` is fast for short needles but can
 * degrade to length × needle length for long, repetitive ones (73 s for a 200,001-char needle in
 * 1 MB of 'a'), and one call per needle is needles × length for many needles.
 */

/** Needles up to this length are searched with `includes` (V8 stays within ~25 ms per MB for them). */
export const SHORT_NEEDLE = 128;
/** Above this many needles × text length, all needles are searched in one pass (Aho–Corasick). */
export const ONE_PASS_ABOVE = 2 ** 24;

/** For each needle, whether `hay` contains it. Linear in hay + needles, whatever they are. */
export function containsEach(hay: string, needles: readonly string[]): boolean[] {
  if (needles.length > 8 && needles.length * hay.length > ONE_PASS_ABOVE) return ahoCorasick(hay, needles);
  return needles.map((n) => (n.length <= SHORT_NEEDLE ? hay.includes(n) : kmpIncludes(hay, n)));
}

/** Knuth–Morris–Pratt: O(hay + needle). */
export function kmpIncludes(hay: string, needle: string): boolean {
  const m = needle.length;
  if (m === 0) return true;
  const fail = new Int32Array(m);
  for (let i = 1, k = 0; i < m; i++) {
    while (k > 0 && needle.charCodeAt(i) !== needle.charCodeAt(k)) k = fail[k - 1];
    if (needle.charCodeAt(i) === needle.charCodeAt(k)) k++;
    fail[i] = k;
  }
  for (let i = 0, k = 0; i < hay.length; i++) {
    const c = hay.charCodeAt(i);
    while (k > 0 && c !== needle.charCodeAt(k)) k = fail[k - 1];
    if (c === needle.charCodeAt(k) && ++k === m) return true;
  }
  return false;
}

/** Aho–Corasick over UTF-16 code units: one pass over `hay` for all needles. */
export function ahoCorasick(hay: string, needles: readonly string[]): boolean[] {
  const found = needles.map((n) => n.length === 0);
  // The trie, node 0 the root. Most nodes have one child: kept in typed arrays, the others in a Map.
  let size = 1;
  for (const n of needles) size += n.length;
  const char = new Int32Array(size).fill(-1);
  const child = new Int32Array(size);
  const more: (Map<number, number> | undefined)[] = new Array(size).fill(undefined);
  const go = (node: number, c: number) => (char[node] === c ? child[node] : more[node]?.get(c));
  let nodes = 1;
  const endOf = new Int32Array(size).fill(-1); // a needle ending at the node; more of them in sameEnd
  const sameEnd = new Int32Array(needles.length).fill(-1);
  needles.forEach((needle, index) => {
    if (!needle.length) return;
    let node = 0;
    for (let i = 0; i < needle.length; i++) {
      const c = needle.charCodeAt(i);
      let next = go(node, c);
      if (next === undefined) {
        next = nodes++;
        if (char[node] < 0) {
          char[node] = c;
          child[node] = next;
        } else {
          const map = more[node] ?? new Map<number, number>();
          more[node] = map;
          map.set(c, next);
        }
      }
      node = next;
    }
    sameEnd[index] = endOf[node];
    endOf[node] = index;
  });
  // Failure links (the longest proper suffix that is a node) and output links (the nearest node on
  // the failure chain where a needle ends), breadth first.
  const fail = new Int32Array(nodes);
  const out = new Int32Array(nodes).fill(-1);
  const queue = new Int32Array(nodes);
  let tail = 0;
  const link = (node: number, c: number, next: number) => {
    let f = fail[node];
    while (f > 0 && go(f, c) === undefined) f = fail[f];
    const target = node === 0 ? 0 : (go(f, c) ?? 0); // depth 1: fail to the root
    fail[next] = target;
    out[next] = endOf[target] >= 0 ? target : out[target];
    queue[tail++] = next;
  };
  for (let q = -1; q < tail; q++) {
    const node = q < 0 ? 0 : queue[q];
    if (char[node] < 0) continue;
    link(node, char[node], child[node]);
    const children = more[node];
    if (children) for (const [c, next] of children) link(node, c, next);
  }
  // Each node's needles are marked once: a later visit stops where marking already went.
  const marked = new Uint8Array(nodes);
  let node = 0;
  for (let i = 0; i < hay.length; i++) {
    const c = hay.charCodeAt(i);
    let to = go(node, c);
    while (to === undefined && node > 0) {
      node = fail[node];
      to = go(node, c);
    }
    node = to ?? 0;
    for (let n = endOf[node] >= 0 ? node : out[node]; n > 0 && !marked[n]; n = out[n]) {
      marked[n] = 1;
      for (let index = endOf[n]; index >= 0; index = sameEnd[index]) found[index] = true;
    }
  }
  return found;
}
