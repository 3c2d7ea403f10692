// A refused command line, said as the user typed it. yargs' strict mode names an unknown option
// only after its positional checks ("oob up --confrim mgmt": the typo takes mgmt as its value, and
// yargs says "Not enough non-option arguments"), and then as "Unknown argument: confrim". cli.ts
// asks this, and only once yargs has already refused the line, which option was not known and
// which one was meant: nothing here runs on a good command line.

/** What yargs knows of the options at the point it refused: getOptions() of the running command. */
export interface KnownOptions {
  key: Record<string, unknown>;
  alias: Record<string, string[]>;
}

const camel = (s: string) => s.replace(/-+([^-])/g, (_, c: string) => c.toUpperCase());
const kebab = (s: string) => s.replace(/([a-z0-9])([A-Z])/g, '$1-$2').toLowerCase();

/** Edit distance with transpositions (optimal string alignment): "confrim" is one step from "confirm". */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  return d[a.length]![b.length]!;
}

/** The option names on a command line that yargs does not know, as typed ("--confrim", "-x"),
 * in order; `--` ends the options, and a negative number is a value, not an option. */
export function unknownOptions(args: readonly string[], known: KnownOptions, positionals: string[] = []): string[] {
  const names = new Set<string>(positionals);
  for (const k of [...Object.keys(known.key), ...Object.values(known.alias).flat()])
    for (const form of [k, camel(k), kebab(k)]) names.add(form);
  const unknown: string[] = [];
  for (const arg of args) {
    if (arg === '--') break;
    const long = /^--([^=]+)/.exec(arg);
    if (long) {
      const name = long[1]!;
      const negated = /^no-(.+)/.exec(name)?.[1];
      if (!names.has(name) && !(negated !== undefined && names.has(negated))) unknown.push(`--${name}`);
      continue;
    }
    const short = /^-([^-\d][^=]*)/.exec(arg);
    if (short) for (const c of short[1]!) if (!names.has(c)) unknown.push(`-${c}`);
  }
  return [...new Set(unknown)];
}

/** The known long option closest to what was typed, if it is close enough to be the one meant. */
export function closestOption(typed: string, known: KnownOptions): string | undefined {
  const want = typed.replace(/^-+/, '');
  if (want.length < 2) return undefined;
  const longs = [...new Set([...Object.keys(known.key), ...Object.values(known.alias).flat()].map(kebab))].filter(
    (k) => k.length > 1,
  );
  const limit = want.length >= 5 ? 2 : 1;
  let best: { name: string; d: number } | undefined;
  for (const k of longs) {
    const d = editDistance(want, k);
    if (d <= limit && (!best || d < best.d)) best = { name: k, d };
  }
  if (best) return `--${best.name}`;
  // a beginning of one option only ("--conf"): that one
  const starts = want.length >= 3 ? longs.filter((k) => k.startsWith(want)) : [];
  return starts.length === 1 ? `--${starts[0]}` : undefined;
}

/** The one line for a command line with an unknown option, or undefined when every option is known
 * (then yargs' own message stands). `verb` is the command as typed ("oob up"), for the help hint. */
export function unknownOptionMessage(
  args: readonly string[],
  known: KnownOptions,
  verb: string,
  positionals: string[] = [],
): string | undefined {
  const [first, ...more] = unknownOptions(args, known, positionals);
  if (!first) return undefined;
  const meant = closestOption(first, known);
  const also = more.length ? ` (also unknown: ${more.join(', ')})` : '';
  return meant
    ? `unknown option ${first}; did you mean ${meant}?${also}`
    : `unknown option ${first}${also}: ${verb} --help lists the options`;
}

/** An option given more than once where it takes one value ("--nic a --nic b": yargs makes it a
 * list, which the command would take for a string): the line that says so, or undefined. Options
 * declared as lists (and yargs' own keys) are left alone; a flag given twice is still the flag. */
export function repeatedOption(argv: Record<string, unknown>, lists: ReadonlySet<string>): string | undefined {
  for (const [k, v] of Object.entries(argv)) {
    if (!Array.isArray(v) || k === '_' || k === '$0' || lists.has(k) || /[A-Z]/.test(k)) continue;
    if (v.every((x) => typeof x === 'boolean')) continue;
    const flag = k.length === 1 ? `-${k}` : `--${k}`;
    return `option ${flag} given ${v.length} times (${v.map((x) => JSON.stringify(String(x))).join(', ')}): it takes one value; give it once`;
  }
  return undefined;
}
