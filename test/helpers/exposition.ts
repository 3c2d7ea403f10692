// A strict reader of Prometheus' text exposition format (version 0.0.4,
// https://prometheus.io/docs/instrumenting/exposition_formats/), for the unit tests of the
// formatter, where promtool is not needed: it throws on the first line that breaks the format or
// the rules promtool and the textfile collector enforce (one HELP and TYPE per family before its
// samples, the samples of a family together, no series twice, counters named *_total and not
// negative, no timestamps, a newline at the end).

export interface Series {
  name: string;
  labels: Record<string, string>;
  value: number;
}
export interface Family {
  name: string;
  help?: string;
  type?: string;
  series: Series[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = ['counter', 'gauge', 'histogram', 'summary', 'untyped'];

function parseValue(s: string, where: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(s)) throw new Error(`${where}: bad value "${s}"`);
  return Number(s);
}

/** "{a="x",b="y"}" from position i of the line: the labels and the position after the "}". */
function parseLabels(line: string, i: number, where: string): [Record<string, string>, number] {
  const labels: Record<string, string> = {};
  i++; // "{"
  for (;;) {
    if (line[i] === '}') return [labels, i + 1];
    const m = /^([a-zA-Z_][a-zA-Z0-9_]*)="/.exec(line.slice(i));
    if (!m) throw new Error(`${where}: bad label at column ${i + 1}`);
    const name = m[1]!;
    if (name.startsWith('__')) throw new Error(`${where}: label name ${name} is reserved`);
    if (name in labels) throw new Error(`${where}: label ${name} twice`);
    i += m[0].length;
    let v = '';
    for (;;) {
      const c = line[i];
      if (c === undefined) throw new Error(`${where}: unterminated label value`);
      if (c === '"') break;
      if (c === '\\') {
        const e = line[i + 1];
        if (e === '\\') v += '\\';
        else if (e === '"') v += '"';
        else if (e === 'n') v += '\n';
        else throw new Error(`${where}: bad escape \\${e ?? ''} in a label value`);
        i += 2;
      } else {
        v += c;
        i++;
      }
    }
    labels[name] = v;
    i++; // closing quote
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } at column ${i + 1}`);
  }
}

export function parseExposition(text: string): Family[] {
  if (text !== '' && !text.endsWith('\n')) throw new Error('the text does not end in a newline');
  const families = new Map<string, Family>();
  const closed = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined;
  const family = (name: string) => {
    if (name !== current) {
      if (current) closed.add(current);
      if (closed.has(name)) throw new Error(`the lines of ${name} are not together`);
      current = name;
    }
    let f = families.get(name);
    if (!f) families.set(name, (f = { name, series: [] }));
    return f;
  };
  text
    .split('\n')
    .slice(0, -1)
    .forEach((line, n) => {
      const where = `line ${n + 1}`;
      if (line.trim() === '') return;
      if (line.startsWith('#')) {
        const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line);
        if (!m) return; // a comment
        const [, kind, name, rest] = m as unknown as [string, string, string, string];
        if (!METRIC.test(name)) throw new Error(`${where}: bad metric name ${name}`);
        const f = family(name);
        if (f.series.length) throw new Error(`${where}: ${kind} of ${name} after its samples`);
        if (kind === 'HELP') {
          if (f.help !== undefined) throw new Error(`${where}: a second HELP for ${name}`);
          if (/\\(?![\\n])/.test(rest)) throw new Error(`${where}: bad escape in the HELP of ${name}`);
          f.help = rest.replace(/\\(\\|n)/g, (_, e: string) => (e === 'n' ? '\n' : '\\'));
        } else {
          if (f.type !== undefined) throw new Error(`${where}: a second TYPE for ${name}`);
          if (!TYPES.includes(rest)) throw new Error(`${where}: bad type "${rest}"`);
          f.type = rest;
        }
        return;
      }
      const m = /^[a-zA-Z_:][a-zA-Z0-9_:]*/.exec(line);
      if (!m) throw new Error(`${where}: bad metric name`);
      const name = m[0];
      let labels: Record<string, string> = {};
      let i = name.length;
      if (line[i] === '{') [labels, i] = parseLabels(line, i, where);
      const rest = line.slice(i);
      const parts = /^ (\S+)( \S+)?$/.exec(rest);
      if (!parts) throw new Error(`${where}: expected " VALUE" after the name and labels, got "${rest}"`);
      if (parts[2]) throw new Error(`${where}: a timestamp (the textfile collector refuses them)`);
      const value = parseValue(parts[1]!, where);
      for (const k of Object.keys(labels)) if (!LABEL.test(k)) throw new Error(`${where}: bad label name ${k}`);
      const f = family(name);
      if (f.type === 'counter') {
        if (!name.endsWith('_total')) throw new Error(`${where}: counter ${name} does not end in _total`);
        if (!(value >= 0)) throw new Error(`${where}: counter ${name} is ${value}`);
      } else if (name.endsWith('_total')) throw new Error(`${where}: ${name} ends in _total but is no counter`);
      const key = `${name}{${Object.entries(labels)
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
        .join(',')}}`;
      if (seen.has(key)) throw new Error(`${where}: the series ${key} twice`);
      seen.add(key);
      f.series.push({ name, labels, value });
    });
  return [...families.values()];
}

/** The value of the one series of `name` whose labels include `labels`; undefined when there is none. */
export function valueOf(fams: Family[], name: string, labels: Record<string, string> = {}): number | undefined {
  const hits = (fams.find((f) => f.name === name)?.series ?? []).filter((s) =>
    Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  if (hits.length > 1) throw new Error(`${hits.length} series of ${name} match ${JSON.stringify(labels)}`);
  return hits[0]?.value;
}
