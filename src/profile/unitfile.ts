// Reading an installed systemd service unit for `from = UNIT.service`, the way Cumulus' management
// VRF makes svc@mgmt units out of distro units: its command line, user, runtime directory, pidfile
// and type. Pure: the texts of the unit, its drop-ins and its environment files come in as
// arguments (profile/units.ts reads them). Whatever a copy cannot honour is refused, naming the
// setting, rather than run differently from what the unit says.

export interface UnitSetting {
  section: string;
  key: string;
  value: string;
  file: string;
  line: number;
}

/** One unit file's assignments, in order; a trailing backslash continues a line (systemd.syntax(7)). */
export function parseUnitFile(file: string, text: string): UnitSetting[] {
  const out: UnitSetting[] = [];
  let section = '';
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = i + 1;
    let t = lines[i]!.trim();
    if (t === '' || t.startsWith('#') || t.startsWith(';')) continue;
    while (t.endsWith('\\') && i + 1 < lines.length) {
      i++;
      const next = lines[i]!.trim();
      if (next.startsWith('#') || next.startsWith(';')) continue; // comments inside a continuation are skipped
      t = t.slice(0, -1) + ' ' + next;
    }
    const sm = /^\[([^\]]+)\]$/.exec(t);
    if (sm) {
      section = sm[1]!;
      continue;
    }
    const eq = t.indexOf('=');
    if (eq < 0) continue;
    out.push({ section, key: t.slice(0, eq).trim(), value: t.slice(eq + 1).trim(), file, line });
  }
  return out;
}

/** The unit file then its drop-ins, in order: an empty assignment resets a list (ExecStart= in a drop-in). */
export function mergeUnit(files: Array<{ file: string; text: string }>): Map<string, UnitSetting[]> {
  const m = new Map<string, UnitSetting[]>();
  for (const f of files)
    for (const s of parseUnitFile(f.file, f.text)) {
      const k = `${s.section}.${s.key}`;
      if (s.value === '') m.set(k, []);
      else m.set(k, [...(m.get(k) ?? []), s]);
    }
  return m;
}

/** systemd's word splitting: "..." and '...' quotes, C escapes; a word is never glued to a quote. */
export function unitWords(text: string): string[] | string {
  const words: string[] = [];
  let cur = '';
  let inWord = false;
  const esc: Record<string, string> = {
    n: '\n',
    t: '\t',
    r: '\r',
    '\\': '\\',
    '"': '"',
    "'": "'",
    ' ': ' ',
    a: '\x07',
    b: '\b',
    f: '\f',
    v: '\v',
    s: ' ',
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\') {
      const n = text[i + 1];
      if (n === undefined) return 'a trailing backslash';
      if (n === 'x' && /^[0-9a-fA-F]{2}$/.test(text.slice(i + 2, i + 4))) {
        cur += String.fromCharCode(parseInt(text.slice(i + 2, i + 4), 16));
        i += 3;
      } else {
        cur += esc[n] ?? n;
        i++;
      }
      inWord = true;
    } else if (c === '"' || c === "'") {
      const end = text.indexOf(c, i + 1);
      if (end < 0) return `unbalanced ${c === '"' ? 'double' : 'single'} quote`;
      cur += text.slice(i + 1, end).replace(/\\(.)/g, (_, x: string) => esc[x] ?? x);
      inWord = true;
      i = end;
    } else if (/\s/.test(c)) {
      if (inWord) {
        words.push(cur);
        cur = '';
        inWord = false;
      }
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (inWord) words.push(cur);
  return words;
}

/** An EnvironmentFile: NAME=VALUE lines, # and ; comments, quotes, `export ` tolerated. */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.replace(/\\\n/g, '').split('\n')) {
    const t = raw.trim().replace(/^export\s+/, '');
    if (!t || t.startsWith('#') || t.startsWith(';')) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(t);
    if (!m) continue;
    let v = m[2]!.trim();
    if (/^".*"$/s.test(v)) v = v.slice(1, -1).replace(/\\(["\\$`])/g, '$1');
    else if (/^'.*'$/s.test(v)) v = v.slice(1, -1);
    env[m[1]!] = v;
  }
  return env;
}

/** ExecStart= variables: `$VAR` as a word of its own splits into words, `${VAR}` is one piece of a word. */
export function expandArgv(words: string[], env: Record<string, string>): string[] {
  const out: string[] = [];
  for (const w of words) {
    const whole = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (whole) out.push(...(env[whole[1]!] ?? '').split(/\s+/).filter(Boolean));
    else out.push(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_, n: string) => env[n] ?? ''));
  }
  return out;
}

export interface UnitCopy {
  exec: string[];
  prestart: string[][];
  env: Record<string, string>;
  type: string;
  user?: string;
  group?: string;
  pidfile?: string;
  stopSignal?: string;
  stopTimeoutMs?: number;
  /** EnvironmentFile= paths, `-` ones marked optional (read them, then call unitCopy again). */
  envFiles: Array<{ path: string; optional: boolean }>;
  /** ConditionPathExists= (a leading ! negates): checked by the caller against the file system. */
  conditions: Array<{ path: string; negate: boolean; where: string }>;
}

/** Settings a copy takes over or that are about systemd's own handling, which the supervisor replaces. */
const TAKEN = new Set([
  'Type',
  'ExecStart',
  'ExecStartPre',
  'User',
  'Group',
  'Environment',
  'EnvironmentFile',
  'RuntimeDirectory',
  'RuntimeDirectoryMode',
  'PIDFile',
  'KillSignal',
  'TimeoutStopSec',
]);
const SUPERSEDED = new Set([
  'Restart',
  'RestartSec',
  'RestartPreventExitStatus',
  'SuccessExitStatus',
  'ExecReload',
  'KillMode',
  'TimeoutSec',
  'TimeoutStartSec',
  'SendSIGKILL',
  'SendSIGHUP',
  'NotifyAccess',
  'RemainAfterExit',
  'StandardOutput',
  'StandardError',
  'SyslogIdentifier',
  'GuessMainPID',
]);

const where = (s: UnitSetting) => `${s.file}:${s.line}`;
const last = (m: Map<string, UnitSetting[]>, key: string) => m.get(key)?.at(-1);

function stopTimeout(v: string): number | undefined {
  if (v === 'infinity') return undefined;
  let ms = 0;
  const parts = v.match(/(\d+(?:\.\d+)?)\s*(ms|us|s|sec|m|min|h)?/g);
  if (!parts) return undefined;
  for (const p of parts) {
    const m = /(\d+(?:\.\d+)?)\s*(ms|us|s|sec|m|min|h)?/.exec(p)!;
    const n = Number(m[1]);
    const u = m[2] ?? 's';
    ms +=
      u === 'ms'
        ? n
        : u === 'us'
          ? n / 1000
          : u === 'm' || u === 'min'
            ? n * 60_000
            : u === 'h'
              ? n * 3_600_000
              : n * 1000;
  }
  return Math.round(ms);
}

/** Specifiers a copy can expand; any other %x in a command line is refused. */
function specifiers(word: string, unit: string): string | { bad: string } {
  let bad: string | undefined;
  const prefix = unit.replace(/\.service$/, '');
  const out = word.replace(/%(.)/g, (all, c: string) => {
    const v = ({ '%': '%', n: unit, N: prefix, p: prefix, t: '/run' } as Record<string, string>)[c];
    if (v === undefined) bad ??= all;
    return v ?? all;
  });
  return bad ? { bad } : out;
}

/**
 * The unit's settings -> what the copy runs, or one line naming the setting it cannot honour.
 * `env` holds the EnvironmentFile= contents read so far (path -> text, undefined: missing).
 */
export function unitCopy(
  unit: string,
  m: Map<string, UnitSetting[]>,
  envTexts: Record<string, string | undefined>,
): UnitCopy | string {
  const refuse = (s: UnitSetting, why: string) => `${unit}: ${s.key}=${s.value} (${where(s)}) ${why}`;
  const typeS = last(m, 'Service.Type');
  const type = typeS?.value ?? (m.get('Service.ExecStart')?.length ? 'simple' : 'oneshot');
  if (!['simple', 'exec', 'notify', 'notify-reload', 'idle', 'forking'].includes(type))
    return typeS
      ? refuse(
          typeS,
          type === 'dbus'
            ? 'is activated over the system D-Bus, which a copy cannot be'
            : 'is not a long-running daemon: a copy runs those only',
        )
      : `${unit}: no ExecStart=: nothing to copy`;
  for (const [k, list] of m) {
    const s = list.at(-1);
    if (!s || s.section !== 'Service') continue;
    const key = k.slice('Service.'.length);
    if (!TAKEN.has(key) && !SUPERSEDED.has(key))
      return refuse(s, 'cannot be honoured by a copy in the namespace: write the service as exec = ... instead');
  }
  const pidS = last(m, 'Service.PIDFile');
  if (type === 'forking' && !pidS)
    return refuse(typeS!, 'without PIDFile=: the copy could not tell which process is the daemon');

  const env: Record<string, string> = {};
  const envFiles: UnitCopy['envFiles'] = [];
  for (const s of m.get('Service.EnvironmentFile') ?? []) {
    const optional = s.value.startsWith('-');
    const p = optional ? s.value.slice(1) : s.value;
    envFiles.push({ path: p, optional });
    if (p in envTexts) {
      const t = envTexts[p];
      if (t === undefined && !optional)
        return refuse(s, `names ${p}, which does not exist: systemd would not start it either`);
      if (t !== undefined) Object.assign(env, parseEnvFile(t));
    }
  }
  for (const s of m.get('Service.Environment') ?? []) {
    const w = unitWords(s.value);
    if (typeof w === 'string') return refuse(s, w);
    for (const item of w) {
      const eq = item.indexOf('=');
      if (eq > 0) env[item.slice(0, eq)] = item.slice(eq + 1);
    }
  }

  const command = (s: UnitSetting, pre: boolean): string[] | string => {
    const w = unitWords(s.value);
    if (typeof w === 'string') return refuse(s, w);
    if (w.includes(';')) return refuse(s, 'holds several commands: a copy runs one');
    const first = w[0] ?? '';
    const flags = /^[-@:+!]*/.exec(first)![0];
    if (/[@+!]/.test(flags))
      return refuse(
        s,
        `uses the prefix "${flags}" (${flags.includes('@') ? 'a different argv[0]' : 'extra privileges'}), which a copy cannot honour`,
      );
    if (flags.includes('-'))
      return refuse(
        s,
        pre
          ? 'may fail (the "-" prefix), which the copy cannot honour: its pre-start commands must succeed'
          : 'ignores its exit status (the "-" prefix), which a copy does not',
      );
    const words = [first.slice(flags.length), ...w.slice(1)];
    const spec: string[] = [];
    for (const word of words) {
      const x = specifiers(word, unit);
      if (typeof x !== 'string') return refuse(s, `uses the specifier ${x.bad}, which a copy does not expand`);
      spec.push(x);
    }
    const argv = flags.includes(':') ? spec : expandArgv(spec, env);
    if (!argv[0]?.startsWith('/')) return refuse(s, 'does not start with an absolute path');
    return argv;
  };

  const starts = m.get('Service.ExecStart') ?? [];
  if (starts.length !== 1)
    return `${unit}: ${starts.length} ExecStart= lines (${starts.map(where).join(', ')}): a copy runs exactly one command`;
  const exec = command(starts[0]!, false);
  if (typeof exec === 'string') return exec;
  const user = last(m, 'Service.User')?.value;
  const group = last(m, 'Service.Group')?.value;
  const prestart: string[][] = [];
  const runtime = last(m, 'Service.RuntimeDirectory');
  if (runtime) {
    const mode = last(m, 'Service.RuntimeDirectoryMode')?.value ?? '0755';
    for (const d of (m.get('Service.RuntimeDirectory') ?? []).flatMap((s) => s.value.split(/\s+/))) {
      if (d.startsWith('/') || d.split('/').includes('..')) return refuse(runtime, 'is not a relative directory name');
      prestart.push(['install', '-d', '-m', mode, `/run/${d}`]);
      if (user || group) prestart.push(['chown', `${user ?? 'root'}:${group ?? ''}`, `/run/${d}`]);
    }
  }
  for (const s of m.get('Service.ExecStartPre') ?? []) {
    if (user)
      return refuse(s, `with User=${user}: systemd runs it as that user, the copy's pre-start commands run as root`);
    const argv = command(s, true);
    if (typeof argv === 'string') return argv;
    prestart.push(argv);
  }
  const conditions = (m.get('Unit.ConditionPathExists') ?? []).map((s) => ({
    path: s.value.replace(/^[|!]+/, ''),
    negate: /^\|?!/.test(s.value),
    where: `${s.key}=${s.value} (${where(s)})`,
  }));
  const sig = last(m, 'Service.KillSignal')?.value;
  const ts = last(m, 'Service.TimeoutStopSec')?.value;
  const tms = ts ? stopTimeout(ts) : undefined;
  return {
    exec,
    prestart,
    env,
    type,
    envFiles,
    conditions,
    ...(user ? { user } : {}),
    ...(group ? { group } : {}),
    ...(pidS ? { pidfile: pidS.value } : {}),
    ...(sig ? { stopSignal: sig.toUpperCase().startsWith('SIG') ? sig.toUpperCase() : `SIG${sig.toUpperCase()}` } : {}),
    ...(tms !== undefined ? { stopTimeoutMs: tms } : {}),
  };
}
