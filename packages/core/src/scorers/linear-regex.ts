import { RE2JS } from 're2js';

/**
 * Regular expressions for user data, matched by re2js (a JavaScript port of RE2) so that no
 * pattern/text pair can backtrack for minutes. Patterns are written in JavaScript syntax; constructs
 * RE2 cannot run in linear time (backreferences, lookahead) are refused with an error naming them.
 *
 * RE2 is linear in the text, but its slowest engine (the NFA, used when the lazy DFA gives up or to
 * locate a match) costs about text length × program size. `LinearRegExp` bounds that product: when
 * the NFA would need more than `NFA_STEPS`, the call throws `RegexTooComplexError` instead of running.
 */

/** Largest compiled program accepted (RE2 instructions; `a{1000}` is about 1,000). Compiling costs ~2 µs each. */
export const MAX_PROGRAM = 20_000;
/** Most NFA work allowed per call: (text length + 1) × (program size + 16); ~0.2–0.5 s at worst. */
export const NFA_STEPS = 2 ** 24;

/** A pattern RE2 cannot run (e.g. a backreference) or that is too large. */
export class UnsupportedRegexError extends Error {
  override name = 'UnsupportedRegexError';
}
/** Matching would exceed the work bound (a large program on a long text, on RE2's slow path). */
export class RegexTooComplexError extends Error {
  override name = 'RegexTooComplexError';
}

/** JavaScript's `\s` (RE2's is ASCII only), as class members. */
const JS_SPACE =
  '\\t\\n\\x{b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
/** Everything else: JavaScript's `\S`, as class members (for `\S` inside a class). */
const JS_NON_SPACE =
  '\\x{0}-\\x{8}\\x{e}-\\x{1f}\\x{21}-\\x{9f}\\x{a1}-\\x{167f}\\x{1681}-\\x{1fff}\\x{200b}-\\x{2027}\\x{202a}-\\x{202e}\\x{2030}-\\x{205e}\\x{2060}-\\x{2fff}\\x{3001}-\\x{fefe}\\x{ff00}-\\x{10ffff}';

const FLAG_BITS: Record<string, number> = { i: RE2JS.CASE_INSENSITIVE, m: RE2JS.MULTILINE, s: RE2JS.DOTALL };
/** JavaScript flags the regex scorer accepts: i, m, s are mapped; d, g, y do not change a test; u is RE2's default. */
export const SUPPORTED_FLAGS = /^[dgimsuy]*$/;

const isHex4 = (s: string) => /^[0-9a-fA-F]{4}$/.test(s);
/** Whether `out` ends with an unescaped `-`. */
function endsWithDash(out: string): boolean {
  if (!out.endsWith('-')) return false;
  let slashes = 0;
  for (let i = out.length - 2; i >= 0 && out[i] === '\\'; i--) slashes++;
  return slashes % 2 === 0;
}

/**
 * Rewrites a JavaScript pattern for RE2 where the two differ and can be made to agree, and refuses
 * what RE2 cannot run. `re2js.translateRegExp` then handles `\uXXXX`, `\cX`, `[^]`, `(?<name>…)`.
 */
function toRe2(pattern: string): string {
  let out = '';
  let inClass = false;
  const refuse = (what: string) => {
    throw new UnsupportedRegexError(
      `pattern /${shorten(pattern)}/ uses ${what}, which RE2 (linear-time matching) does not support`,
    );
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      const d = pattern[i + 1];
      if (d === undefined) {
        out += c; // RE2 reports the trailing backslash
        continue;
      }
      if (!inClass && d >= '1' && d <= '9') refuse(`a backreference (\\${/^\d+/.exec(pattern.slice(i + 1))![0]})`);
      if (d === 'k' && pattern[i + 2] === '<') refuse('a named backreference (\\k<…>)');
      i++;
      // In a class, JavaScript reads `a-\d` as a, -, \d: escape that dash, which RE2 would take for a range.
      if (inClass && 'dDwWsSpP'.includes(d) && endsWithDash(out)) out = `${out.slice(0, -1)}\\-`;
      if (d === 's' || d === 'S') {
        out += inClass ? (d === 's' ? JS_SPACE : JS_NON_SPACE) : d === 's' ? `[${JS_SPACE}]` : `[^${JS_SPACE}]`;
        if (inClass && pattern[i + 1] === '-' && pattern[i + 2] !== ']') {
          out += '\\-'; // `\s-z` is \s, -, z
          i++;
        }
      } else if (d === 'b' && inClass)
        out += '\\x{8}'; // [\b] is a backspace
      else if (d === 'u' && isHex4(pattern.slice(i + 1, i + 5)) && pattern.slice(i + 5, i + 7) === '\\u') {
        // a surrogate pair written as two escapes is one character of the text
        const hi = Number.parseInt(pattern.slice(i + 1, i + 5), 16);
        const lo = Number.parseInt(pattern.slice(i + 7, i + 11), 16);
        if (hi >= 0xd800 && hi <= 0xdbff && lo >= 0xdc00 && lo <= 0xdfff && isHex4(pattern.slice(i + 7, i + 11))) {
          out += `\\x{${((hi - 0xd800) * 0x400 + (lo - 0xdc00) + 0x10000).toString(16)}}`;
          i += 10;
        } else out += '\\u';
      } else if ((d === 'p' || d === 'P') && pattern[i + 1] === '{') {
        // \p{Script=Greek}, \p{gc=L} → RE2's \p{Greek}, \p{L}
        const m = /^\{(?:Script|sc|General_Category|gc)=(\w+)\}/.exec(pattern.slice(i + 1, i + 64));
        if (m) {
          out += `\\${d}{${m[1]}}`;
          i += m[0].length;
        } else out += `\\${d}`;
      } else out += c + d;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
    } else if (c === '[') inClass = true;
    else if (c === '(' && pattern[i + 1] === '?') {
      if (pattern[i + 2] === '=') refuse('a lookahead (?=…)');
      if (pattern[i + 2] === '!')
        refuse('a negative lookahead (?!…); for "does not contain", match the text itself with options.invert: true');
    }
    out += c;
  }
  return RE2JS.translateRegExp(out);
}

/**
 * About the number of instructions RE2 compiles `pattern` to, from its text (an atom is 1, a group
 * the sum of its parts, a repetition {m,n} multiplies what it repeats): compiling is refused above
 * `MAX_PROGRAM` before it starts, since a short pattern such as `(?:x{1000}){1000}`… can be huge.
 */
export function estimateProgramSize(pattern: string): number {
  const stack: { total: number; last: number }[] = [];
  let cur = { total: 0, last: 0 };
  const atom = (size: number) => {
    cur.total += cur.last;
    cur.last = size;
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '\\') {
      atom(1);
      i++;
    } else if (c === '[') {
      let j = i + 1;
      while (j < pattern.length && pattern[j] !== ']') j += pattern[j] === '\\' ? 2 : 1;
      atom(1);
      i = j;
    } else if (c === '(') {
      stack.push(cur);
      cur = { total: 0, last: 0 };
    } else if (c === ')' && stack.length) {
      const size = cur.total + cur.last + 2;
      cur = stack.pop()!;
      atom(size);
    } else if (c === '|') {
      cur.total += cur.last + 1;
      cur.last = 0;
    } else if (c === '*' || c === '+' || c === '?') cur.last += 1;
    else if (c === '{') {
      const m = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i, i + 24));
      if (m) {
        const min = Math.min(Number(m[1]), 1001);
        const max = m[2] === undefined ? min : m[3] ? Math.min(Number(m[3]), 1001) : min + 1;
        cur.last = cur.last * Math.max(min, max, 1) + 1;
        i += m[0].length - 1;
      } else atom(1);
    } else atom(1);
    if (cur.total + cur.last > MAX_PROGRAM * 4) break; // far too big already
  }
  while (stack.length) {
    const size = cur.total + cur.last;
    cur = stack.pop()!;
    atom(size);
  }
  return cur.total + cur.last;
}

class NfaRefused extends Error {}

/** A compiled pattern with a `RegExp`-like `test`, matched in linear time with a bounded amount of work. */
export class LinearRegExp {
  readonly source: string;
  readonly flags: string;
  /** RE2 instructions: the cost of one NFA step per character. */
  readonly programSize: number;
  private readonly re: RE2JS;
  private nfaAllowed = false;
  private nfaUsed = false;

  /** Throws `UnsupportedRegexError` (backreference, lookahead, too large) or a `SyntaxError` naming the problem. */
  constructor(pattern: string, flags = '') {
    this.source = pattern;
    this.flags = flags;
    if (!SUPPORTED_FLAGS.test(flags)) {
      throw new UnsupportedRegexError(
        flags.includes('v')
          ? 'the v flag (set notation) is not supported by RE2; use u'
          : `invalid flags '${flags}' (supported: d g i m s u y)`,
      );
    }
    const estimate = pattern.length > MAX_PROGRAM * 4 ? pattern.length : estimateProgramSize(pattern);
    if (estimate > MAX_PROGRAM) throw tooLarge(pattern, estimate);
    let bits = RE2JS.LOOKBEHINDS;
    for (const f of flags) bits |= FLAG_BITS[f] ?? 0;
    const translated = toRe2(pattern);
    try {
      this.re = RE2JS.compile(translated, bits);
    } catch (e) {
      throw compileError(pattern, flags, e);
    }
    this.programSize = this.re.programSize();
    if (this.programSize > MAX_PROGRAM) throw tooLarge(pattern, this.programSize);
    // re2js runs its NFA only through this method (the DFA, one-pass and bit-state engines are bounded
    // on their own); refusing it when the budget is spent bounds every call. Pinned re2js version:
    // test/scorers-bounded.test.ts checks that the hook still takes effect.
    const re2 = this.re.re2();
    const nfa = re2.doExecuteNFA.bind(re2);
    re2.doExecuteNFA = (...args: Parameters<typeof nfa>) => {
      if (!this.nfaAllowed) throw new NfaRefused();
      this.nfaUsed = true;
      return nfa(...args);
    };
  }

  /** NFA work for one pass over `text`. */
  private cost(text: string) {
    return (text.length + 1) * (this.programSize + 16);
  }

  private run<T>(allowed: boolean, fn: () => T): T {
    this.nfaAllowed = allowed;
    this.nfaUsed = false;
    try {
      return fn();
    } finally {
      this.nfaAllowed = false;
    }
  }

  /** Whether the pattern occurs in `text`. Throws `RegexTooComplexError` when that needs more than `NFA_STEPS`. */
  test(text: string): boolean {
    const cost = this.cost(text);
    try {
      return this.run(cost <= NFA_STEPS, () => this.re.test(text));
    } catch (e) {
      if (e instanceof NfaRefused) throw this.tooComplex(text, cost);
      throw e;
    }
  }

  /**
   * The first match in `text`, or null. Its text is null when the pattern is known to match but
   * locating the match would exceed the budget left by the test.
   */
  match(text: string): { text: string | null } | null {
    if (!this.test(text)) return null;
    const cost = this.cost(text);
    const left = NFA_STEPS - (this.nfaUsed ? cost : 0);
    try {
      return this.run(cost <= left, () => {
        const m = this.re.matcher(text);
        return { text: m.find() ? m.group() : null };
      });
    } catch (e) {
      if (e instanceof NfaRefused) return { text: null };
      throw e;
    }
  }

  toString(): string {
    return `/${this.source}/${this.flags}`;
  }

  private tooComplex(text: string, cost: number) {
    return new RegexTooComplexError(
      `pattern ${shorten(this.toString())} is too complex for a text of ${text.length.toLocaleString('en-US')} characters: ` +
        `RE2 would need about ${cost.toLocaleString('en-US')} steps (${this.programSize} instructions × length), ` +
        `more than the ${NFA_STEPS.toLocaleString('en-US')} allowed; simplify the pattern or shorten the text`,
    );
  }
}

const shorten = (s: string, max = 80) => (s.length > max ? `${s.slice(0, max)}…` : s);

function tooLarge(pattern: string, size: number) {
  return new UnsupportedRegexError(
    `pattern /${shorten(pattern)}/ is too large: about ${size.toLocaleString('en-US')} RE2 instructions, more than the ${MAX_PROGRAM.toLocaleString('en-US')} allowed`,
  );
}

/** An RE2 syntax error: "Invalid regular expression" when JavaScript rejects the pattern too, else "not supported". */
function compileError(pattern: string, flags: string, e: unknown): Error {
  const detail = (e as { getDescription?: () => string; input?: string | null }).getDescription?.();
  const input = (e as { input?: string | null }).input;
  const why = detail
    ? `${detail}${input ? `: ${shorten(input, 40)}` : ''}`
    : e instanceof Error
      ? e.message
      : String(e);
  try {
    new RegExp(pattern, flags); // parses only, in linear time
  } catch (jsError) {
    // JavaScript's "Invalid regular expression: /…/: Unterminated group", with a long pattern shortened
    const jsWhy = String(jsError instanceof Error ? jsError.message : jsError)
      .split(': ')
      .pop();
    return new SyntaxError(`Invalid regular expression: /${shorten(pattern)}/${flags}: ${jsWhy}`);
  }
  return new UnsupportedRegexError(
    `pattern /${shorten(pattern)}/ is not supported by RE2 (linear-time matching): ${why}`,
  );
}

/**
 * A RegExp engine for ajv (`code: { regExp }`): JSON Schema `pattern` and `patternProperties`
 * matched by `LinearRegExp`. A pattern RE2 cannot run fails the schema's compilation.
 */
export const linearRegExpEngine = Object.assign((pattern: string, flags: string) => new LinearRegExp(pattern, flags), {
  code: 'new LinearRegExp',
});
