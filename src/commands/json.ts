// --json for the commands that change things (up, down, enable, disable): one JSON document on
// stdout that says whether anything changed and what, so configuration management (the Ansible
// role in ansible/) can report "changed" honestly. Errors stay one line on stderr with the exit code.
// Pure: each function turns a command's result into the document; the handlers print it.
import type { Argv } from 'yargs';
import type { DownResult, UpResult } from '../engine/ops.js';
import type { DisableResult, EnableResult } from '../systemd/enable.js';

export function jsonOption<T>(y: Argv<T>) {
  return y.option('json', {
    type: 'boolean',
    default: false,
    describe: 'print one JSON document: {"changed": true|false, ...what changed}',
  });
}

export interface JsonArgs {
  json: boolean;
}

export function upJson(results: UpResult[]) {
  const profiles = results.map((r) => ({
    name: r.profile.name,
    changed: r.steps.length > 0,
    steps: r.steps.map((s) => s.title),
    nic: r.nicName ?? null,
    addresses: r.addresses,
    gateways: r.gateways,
    notes: r.notes,
  }));
  return { changed: profiles.some((p) => p.changed), profiles };
}

export function downJson(results: DownResult[]) {
  const profiles = results.map((r) => ({
    name: r.name,
    changed: r.steps.length > 0,
    steps: r.steps.map((s) => s.title),
    notes: r.notes,
  }));
  return { changed: profiles.some((p) => p.changed), profiles };
}

export function enableJson(name: string, r: EnableResult, root: string | undefined) {
  const c = r.changed;
  return {
    changed: c.files.length > 0 || c.enabled || c.started,
    name,
    files: c.files,
    enabled: c.enabled,
    started: c.started,
    ...(root ? { root } : {}),
    ...(r.active !== undefined ? { active: r.active } : {}),
    notes: r.notes,
  };
}

export function disableJson(name: string, r: DisableResult, root: string | undefined) {
  return {
    changed: r.wasEnabled || r.removed.length > 0,
    name,
    disabled: r.wasEnabled,
    removed: r.removed,
    stopped: r.stopped,
    ...(root ? { root } : {}),
  };
}

export const printJson = (doc: unknown) => process.stdout.write(JSON.stringify(doc) + '\n');
