// Change keys of a profile's text in place, keeping every other line and comment. Pure.

/** Set (or, with undefined, leave alone) keys of one section; the section is added if missing. */
export function setKeys(text: string, section: string, values: Record<string, string | undefined>): string {
  const lines = text.split('\n');
  const header = (l: string) => /^\s*\[([^\]]*)\]/.exec(l)?.[1]?.trim();
  let start = lines.findIndex((l) => header(l) === section);
  if (start < 0) {
    const tail = text === '' || text.endsWith('\n\n') ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    const body = Object.entries(values).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} = ${v}`);
    return `${text}${tail}[${section}]\n${body.join('\n')}\n`;
  }
  let end = lines.findIndex((l, i) => i > start && header(l) !== undefined);
  if (end < 0) end = lines.length;
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) continue;
    const re = new RegExp(`^(\\s*)${key.replace(/[-.]/g, '\\$&')}\\s*=`);
    const at = lines.findIndex((l, i) => i > start && i < end && re.test(l));
    if (at >= 0) {
      lines[at] = `${re.exec(lines[at]!)![1]}${key} = ${value}`;
    } else {
      // after the section's last non-blank line
      let ins = end;
      while (ins - 1 > start && lines[ins - 1]!.trim() === '') ins--;
      lines.splice(ins, 0, `${key} = ${value}`);
      end++;
    }
  }
  return lines.join('\n');
}

export function newProfileText(name: string): string {
  return [
    `# oob profile "${name}", written by oob enable. Reference: profiles/mgmt.ini and the README.`,
    `# The file name is the namespace name. Keep it owned by root and not writable by others.`,
    '',
    '[interface]',
    '',
  ].join('\n');
}
