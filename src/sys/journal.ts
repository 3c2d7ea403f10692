// journald levels (issue 11, 6): when stderr is the journal, every line carries its sd-daemon
// priority prefix (sd-daemon(3): "<3>" error, "<4>" warning, "<6>" info, "<7>" debug: OOB_TRACE), so that
// `journalctl -u oob@NAME -p warning` shows just the problems. On a terminal or a file: no prefix.
import { fstatSync } from 'node:fs';

export const PRIORITY = { error: 3, warning: 4, info: 6, debug: 7 } as const;
export type Priority = keyof typeof PRIORITY;

/** systemd sets $JOURNAL_STREAM to "DEV:INO" of the stream it connected (systemd.exec(5)): is `fd` that stream? */
export function isJournalStream(env: NodeJS.ProcessEnv, fd = 2): boolean {
  const m = /^(\d+):(\d+)$/.exec(env.JOURNAL_STREAM ?? '');
  if (!m) return false;
  try {
    const st = fstatSync(fd, { bigint: true });
    return st.dev === BigInt(m[1]!) && st.ino === BigInt(m[2]!);
  } catch {
    return false;
  }
}

/** The text with each line prefixed by its priority when `journal`, unchanged otherwise. */
export function withPriority(journal: boolean, p: Priority, text: string): string {
  return journal
    ? text
        .split('\n')
        .map((l) => `<${PRIORITY[p]}>${l}`)
        .join('\n')
    : text;
}

let stderrJournal: boolean | undefined;
/** Whether this process's stderr is the journal (read once). */
export const stderrIsJournal = () => (stderrJournal ??= isJournalStream(process.env, 2));
