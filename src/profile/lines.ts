// A line-level reader for INI profiles: sections, keys and the line each stands on, so that every
// error can name file, line, section and key. Values are decoded by the `ini` package's own
// rules (quotes, inline ; and # comments, escapes), so a profile means what `ini` says it means.
import { createRequire } from 'node:module';

// ini is CommonJS: require() loads it in ~4 ms, where importing it through the ESM loader's
// CommonJS lexer takes ~15 ms, on every run of oob.
const ini = createRequire(import.meta.url)('ini') as typeof import('ini');

export interface Entry {
  key: string;
  value: string;
  line: number;
}

/**
 * Where the `ini` package would cut a raw value at a ";" or "#" that is not a comment: one inside
 * a word ("a;b") or inside shell quotes ('a; b'). A ";" or "#" after white space, outside quotes,
 * starts a comment as INI means it. Undefined when nothing is cut, or only a comment.
 */
export function badCut(raw: string): { at: number; char: string } | undefined {
  const v = raw.trim();
  if (v.length > 1 && /^(".*"|'.*')$/s.test(v)) return undefined; // a quoted value is not cut
  let quote: string | null = null;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\') {
      i++;
      continue;
    } // ini's escape (\; \#), as ini reads it
    if (c === ';' || c === '#') return quote || (i > 0 && !/\s/.test(v[i - 1]!)) ? { at: i, char: c } : undefined;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === "'" || c === '"') quote = c;
  }
  return undefined;
}

/** Control characters (and bidi overrides) of a text, escaped, so that no message echoes them raw to a terminal. */
export function escapeControls(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    const n = c.charCodeAt(0);
    return n <= 0xff ? `\\x${n.toString(16).padStart(2, '0')}` : `\\u${n.toString(16).padStart(4, '0')}`;
  });
}

export interface Section {
  name: string;
  line: number;
  entries: Entry[];
}

export interface Problem {
  line: number;
  section?: string;
  key?: string;
  message: string;
}

export interface Scanned {
  sections: Section[];
  problems: Problem[];
}

const SECTION = /^\[([^\]]*)\]\s*(?:[;#].*)?$/;

export function scanIni(text: string): Scanned {
  const sections: Section[] = [];
  const problems: Problem[] = [];
  const seenSections = new Map<string, number>();
  let current: Section | null = null;
  let seenKeys = new Map<string, number>();
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, i) => {
    const line = i + 1;
    const t = raw.trim();
    if (t === '' || t.startsWith(';') || t.startsWith('#')) return;
    const sm = SECTION.exec(t);
    if (sm) {
      const name = sm[1]!.trim();
      if (!name) {
        problems.push({ line, message: 'empty section name "[]": write a section like [interface]' });
        current = null;
        return;
      }
      const prev = seenSections.get(name);
      if (prev !== undefined) {
        problems.push({
          line,
          section: name,
          message: `section [${name}] appears again (first on line ${prev}): merge the two`,
        });
      } else seenSections.set(name, line);
      current = { name, line, entries: [] };
      sections.push(current);
      seenKeys = new Map();
      return;
    }
    if (t.startsWith('[')) {
      problems.push({ line, message: `"${t}" is not a valid section header: write it as [name]` });
      return;
    }
    const eq = t.indexOf('=');
    if (eq < 0) {
      problems.push({ line, section: current?.name, message: `"${t}" is not "key = value"` });
      return;
    }
    const key = t.slice(0, eq).trim();
    const rawValue = t.slice(eq + 1).trim();
    const cut = badCut(rawValue);
    if (cut && key && current)
      problems.push({
        line,
        section: current.name,
        key,
        message: `the "${cut.char}" at column ${raw.indexOf(t) + eq + 1 + (t.length - eq - 1 - t.slice(eq + 1).trimStart().length) + cut.at + 1} starts an INI comment, which cuts the value to "${String(ini.unsafe(rawValue) ?? '').trim()}": write each ";" and "#" that belongs to the value as \\; and \\#`,
      });
    // with a refused cut, the value is read whole, so that it is not reported a second time as cut
    const value = String(ini.unsafe(cut ? rawValue.replace(/(?<!\\)([;#])/g, '\\$1') : rawValue) ?? '').trim();
    if (!key) {
      problems.push({ line, section: current?.name, message: 'a value without a key: write "key = value"' });
      return;
    }
    if (!current) {
      problems.push({ line, key, message: 'key outside any section: put it under a section such as [interface]' });
      return;
    }
    const prev = seenKeys.get(key);
    if (prev !== undefined) {
      problems.push({
        line,
        section: current.name,
        key,
        message: `duplicate key (first on line ${prev}): give it once; list several values on one line, separated by commas`,
      });
      return;
    }
    seenKeys.set(key, line);
    current.entries.push({ key, value, line });
  });
  return { sections, problems };
}

/** Levenshtein distance, for "did you mean" suggestions. */
export function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length]![b.length]!;
}

export function nearest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const c of candidates) {
    const dd = distance(word.toLowerCase(), c);
    if (dd < bestD) {
      bestD = dd;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

/** Split a value into list items: commas and/or white space separate. */
export function splitList(value: string): string[] {
  return value.split(/[\s,]+/).filter(Boolean);
}

/**
 * Split a command line into words the way a POSIX shell does for quoting ('...', "...", \),
 * without running a shell: no variables, globbing, pipes or redirections.
 */
export function shellWords(text: string): string[] | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === "'") {
      const end = text.indexOf("'", i + 1);
      if (end < 0) return 'unbalanced single quote';
      cur += text.slice(i + 1, end);
      inWord = true;
      i = end + 1;
    } else if (c === '"') {
      i++;
      let closed = false;
      while (i < text.length) {
        const d = text[i]!;
        if (d === '"') {
          closed = true;
          i++;
          break;
        }
        if (d === '\\' && i + 1 < text.length && '"\\$`'.includes(text[i + 1]!)) {
          cur += text[i + 1];
          i += 2;
          continue;
        }
        cur += d;
        i++;
      }
      if (!closed) return 'unbalanced double quote';
      inWord = true;
    } else if (c === '\\') {
      if (i + 1 >= text.length) return 'a trailing backslash';
      cur += text[i + 1];
      inWord = true;
      i += 2;
    } else if (/\s/.test(c)) {
      if (inWord) {
        words.push(cur);
        cur = '';
        inWord = false;
      }
      i++;
    } else if ('|&<>`$()'.includes(c)) {
      return `"${c}" would need a shell, and oob runs no shell: quote it if it is meant literally, or wrap the command in a script`;
    } else {
      cur += c;
      inWord = true;
      i++;
    }
  }
  if (inWord) words.push(cur);
  return words;
}
