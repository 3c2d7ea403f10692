// `nft -j list ruleset` output -> tables, their chains and their rules' comments. Pure.
// oob compares tables by their chains and the comments of their rules (each rule of oob's carries
// one naming what it does), not by nft's expression trees.

export interface NftChain {
  name: string;
  type?: string;
  hook?: string;
  prio?: number;
  policy?: string;
}

export interface NftRule {
  chain: string;
  comment?: string;
}

export interface NftTable {
  family: string;
  name: string;
  chains: NftChain[];
  rules: NftRule[];
}

type Obj = Record<string, unknown>;
const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const str = (x: unknown) => (typeof x === 'string' ? x : undefined);

/** Every table of the listing, by "family name". Throws on text that is not nft's JSON. */
export function parseNftRuleset(json: string): Map<string, NftTable> {
  const doc = JSON.parse(json) as unknown;
  const list = isObj(doc) && Array.isArray(doc.nftables) ? (doc.nftables as unknown[]) : undefined;
  if (!list) throw new Error('not the JSON of nft -j (no "nftables" array)');
  const out = new Map<string, NftTable>();
  const key = (o: Obj) => `${str(o.family)} ${str(o.table) ?? str(o.name)}`;
  for (const item of list) {
    if (!isObj(item)) continue;
    if (isObj(item.table)) {
      const t = item.table;
      out.set(key(t), { family: str(t.family) ?? '', name: str(t.name) ?? '', chains: [], rules: [] });
    } else if (isObj(item.chain)) {
      const c = item.chain;
      const policy = str(c.policy);
      const type = str(c.type);
      const hook = str(c.hook);
      out.get(key(c))?.chains.push({
        name: str(c.name) ?? '',
        ...(type ? { type } : {}),
        ...(hook ? { hook } : {}),
        ...(typeof c.prio === 'number' ? { prio: c.prio } : {}),
        ...(policy ? { policy } : {}),
      });
    } else if (isObj(item.rule)) {
      const r = item.rule;
      const comment = str(r.comment);
      out.get(key(r))?.rules.push({ chain: str(r.chain) ?? '', ...(comment !== undefined ? { comment } : {}) });
    }
  }
  return out;
}

/** A table's shape, comparable with another's: its chains and, per chain, its rules' comments in order. */
export function tableShape(t: Pick<NftTable, 'chains' | 'rules'>): string {
  return JSON.stringify(
    [...t.chains]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((c) => ({
        ...c,
        rules: t.rules.filter((r) => r.chain === c.name).map((r) => r.comment ?? ''),
      })),
  );
}
