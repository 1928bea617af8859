/**
 * Python index syntax for `x.i('0, 1:3, ..., None')`: the text between Python's brackets.
 *
 *   item     := '...' | 'None' | 'True' | 'False' | '$n' | list | slice | int
 *   slice    := [bound] ':' [bound] [':' [bound]]        bound := int | '$n' | 'None'
 *   list     := '[' [elem {',' elem} [',']] ']'          elem  := int | 'True' | 'False' | list
 *   index    := '' | '()' | item {',' item} [',']
 *
 * `$0`, `$1`... are placeholders for the extra arguments (`x.i(':, $0', idx)`). As in Python,
 * a single item without a comma is a plain index (`x[0]`), and a trailing comma or several
 * items make a tuple (`x[0,]`, `x[0, 1]`); '' and '()' are the empty tuple (`x[()]`).
 * Errors are ArgumentErrors that quote the text and point at the position.
 */
import { ArgumentError } from '../errors.js';
import { Ellipsis, Slice } from '../transport/codec.js';

/** A parsed item before placeholders are filled in. */
export type ParsedItem =
  | { k: 'int'; v: number | bigint }
  | { k: 'slice'; start: Bound; stop: Bound; step: Bound }
  | { k: 'ellipsis' }
  | { k: 'none' }
  | { k: 'bool'; v: boolean }
  | { k: 'arg'; n: number }
  | { k: 'list'; v: ListValue };

type Bound = null | number | bigint | { arg: number };
export type ListValue = (number | bigint | boolean | ListValue)[];

export interface ParsedIndex {
  items: ParsedItem[];
  /** a Python tuple (a comma, or empty) rather than a single plain index */
  tuple: boolean;
  /** placeholders used, for checking the argument count */
  args: number;
}

class Parser {
  private pos = 0;
  private maxArg = -1;

  constructor(private readonly text: string) {}

  parse(): ParsedIndex {
    this.ws();
    if (this.pos === this.text.length) return { items: [], tuple: true, args: 0 };
    if (this.text.startsWith('()', this.pos)) {
      this.pos += 2;
      this.ws();
      if (this.pos === this.text.length) return { items: [], tuple: true, args: 0 };
      this.fail("unexpected text after '()'");
    }
    const items: ParsedItem[] = [];
    let comma = false;
    for (;;) {
      items.push(this.item());
      this.ws();
      if (this.pos === this.text.length) break;
      if (this.text[this.pos] !== ',') this.fail(`expected ',' or the end of the index, got ${this.describeHere()}`);
      this.pos++;
      comma = true;
      this.ws();
      if (this.pos === this.text.length) break; // trailing comma: a tuple
    }
    return { items, tuple: comma, args: this.maxArg + 1 };
  }

  private item(): ParsedItem {
    const t = this.text;
    if (t.startsWith('...', this.pos)) {
      this.pos += 3;
      return { k: 'ellipsis' };
    }
    if (t[this.pos] === '[') return { k: 'list', v: this.list(0) };
    if (this.word('True')) return { k: 'bool', v: true };
    if (this.word('False')) return { k: 'bool', v: false };
    // int, None, $n, or a slice starting with one of them (or with ':')
    const start = this.bound();
    this.ws();
    if (t[this.pos] !== ':') {
      if (start === undefined) this.fail(`expected an index (an int, a slice, '...', None, True, False, a list or $n), got ${this.describeHere()}`);
      if (start === null) return { k: 'none' };
      if (typeof start === 'object') return { k: 'arg', n: start.arg };
      return { k: 'int', v: start };
    }
    this.pos++; // ':'
    this.ws();
    const stop = this.bound() ?? null;
    this.ws();
    let step: Bound = null;
    if (t[this.pos] === ':') {
      this.pos++;
      this.ws();
      step = this.bound() ?? null;
    }
    return { k: 'slice', start: start ?? null, stop, step };
  }

  /** An int, None or $n; undefined when there is none here (an omitted slice bound). */
  private bound(): Bound | undefined {
    const t = this.text;
    if (this.word('None')) return null;
    if (t[this.pos] === '$') {
      const at = this.pos;
      this.pos++;
      const m = /^\d+/.exec(t.slice(this.pos));
      if (!m) this.fail("'$' must be followed by an argument number, as in $0", at);
      this.pos += m[0].length;
      const n = Number(m[0]);
      this.maxArg = Math.max(this.maxArg, n);
      return { arg: n };
    }
    return this.int();
  }

  /** A Python int literal here, or undefined. */
  private int(): number | bigint | undefined {
    const t = this.text;
    const m = INT.exec(t.slice(this.pos));
    if (!m) return undefined;
    this.pos += m[0].length;
    const after = t[this.pos];
    if (after !== undefined && /[\w.]/.test(after)) {
      this.fail(after === '.' || after === 'e' || after === 'E' ? 'only integers are valid indices' : `unexpected ${JSON.stringify(after)}`);
    }
    return parseInt(m[0]);
  }

  private list(depth: number): ListValue {
    const t = this.text;
    const open = this.pos;
    this.pos++; // '['
    const out: ListValue = [];
    this.ws();
    if (t[this.pos] === ']') {
      this.pos++;
      return out;
    }
    for (;;) {
      this.ws();
      if (t[this.pos] === '[') out.push(this.list(depth + 1));
      else if (this.word('True')) out.push(true);
      else if (this.word('False')) out.push(false);
      else {
        const v = this.int();
        if (v === undefined) this.fail(`expected an int, True, False or a list inside [...], got ${this.describeHere()}`);
        out.push(v);
      }
      this.ws();
      if (t[this.pos] === ',') {
        this.pos++;
        this.ws();
        if (t[this.pos] === ']') {
          this.pos++;
          return out;
        }
        continue;
      }
      if (t[this.pos] === ']') {
        this.pos++;
        return out;
      }
      if (this.pos === t.length) this.fail(`'[' at position ${open} is never closed`);
      this.fail(`expected ',' or ']' in a list, got ${this.describeHere()}`);
    }
  }

  /** A keyword (None/True/False) not followed by an identifier character. */
  private word(w: string): boolean {
    if (!this.text.startsWith(w, this.pos)) return false;
    const after = this.text[this.pos + w.length];
    if (after !== undefined && /\w/.test(after)) return false;
    this.pos += w.length;
    return true;
  }

  private ws(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos]!)) this.pos++;
  }

  private describeHere(): string {
    if (this.pos >= this.text.length) return 'the end of the text';
    return JSON.stringify(this.text.slice(this.pos, this.pos + 8).split(/[\s,:\]]/)[0] || this.text[this.pos]!);
  }

  fail(what: string, at = this.pos): never {
    throw new ArgumentError(
      `cannot parse the index '${this.text}' at position ${at}: ${what}\n    ${this.text}\n    ${' '.repeat(at)}^`,
    );
  }
}

/** Python int literal text (sign, underscores, 0x/0o/0b) to a number, or a bigint beyond 2^53. */
const INT = /^[-+]?\s*(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|\d[\d_]*)/;

function parseInt(text: string): number | bigint {
  const s = text.replace(/[\s_]/g, '');
  const neg = s.startsWith('-');
  const body = s.replace(/^[-+]/, '');
  let b = BigInt(/^0[oO]/.test(body) ? '0o' + body.slice(2) : body.toLowerCase().replace(/^0+(?=\d)/, ''));
  if (neg) b = -b;
  const n = Number(b);
  return Number.isSafeInteger(n) ? n : b;
}

const cache = new Map<string, ParsedIndex>();
const CACHE_MAX = 512;

/** Parse (cached: index strings in loops are parsed once). */
export function parseIndex(text: string): ParsedIndex {
  let p = cache.get(text);
  if (p === undefined) {
    p = new Parser(text).parse();
    if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
    cache.set(text, p);
  }
  return p;
}

/**
 * Parse and fill in the placeholders: the index items as `x.index(...)` takes them, and whether
 * they form a tuple. `args` must be used exactly (each $n with n < args.length, none left over).
 */
export function resolveIndex(text: string, args: readonly unknown[], what = 'i'): { items: unknown[]; tuple: boolean } {
  if (typeof text !== 'string') throw new ArgumentError(`${what}(): the index must be a string in Python syntax, not ${typeof text}`);
  const p = parseIndex(text);
  if (p.args !== args.length) {
    throw new ArgumentError(
      p.args > args.length
        ? `${what}(): the index '${text}' uses $${p.args - 1} but only ${args.length} argument(s) follow it`
        : `${what}(): ${args.length} argument(s) follow the index '${text}' but it uses ${p.args === 0 ? 'no $n placeholder' : `only $0..$${p.args - 1}`}`,
    );
  }
  const bound = (b: Bound, n: string): number | bigint | null => {
    if (b === null || typeof b !== 'object') return b;
    const v = args[b.arg];
    if (v === null || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) return v;
    throw new ArgumentError(`${what}(): $${b.arg} is the ${n} of a slice in '${text}', so it must be an int or null, not ${describe(v)}`);
  };
  const items = p.items.map((it): unknown => {
    switch (it.k) {
      case 'int':
        return it.v;
      case 'slice':
        return new Slice(bound(it.start, 'start') as number | null, bound(it.stop, 'stop') as number | null, bound(it.step, 'step') as number | null);
      case 'ellipsis':
        return Ellipsis;
      case 'none':
        return null;
      case 'bool':
        return it.v;
      case 'arg':
        return args[it.n];
      case 'list':
        return it.v;
    }
  });
  return { items, tuple: p.tuple };
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return (v as object).constructor?.name ?? 'an object';
  return typeof v;
}
