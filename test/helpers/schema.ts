// A small JSON Schema checker (type, enum, required, properties, additionalProperties: false,
// items): enough for the status schema, so the test needs no extra dependency.
type Schema = {
  type?: string | readonly string[];
  enum?: readonly unknown[];
  required?: readonly string[];
  properties?: Record<string, Schema>;
  additionalProperties?: boolean;
  items?: Schema;
};

const typeOf = (v: unknown): string[] => {
  if (v === null) return ['null'];
  if (Array.isArray(v)) return ['array'];
  if (typeof v === 'number') return Number.isInteger(v) ? ['integer', 'number'] : ['number'];
  return [typeof v];
};

export function validate(schema: Schema, value: unknown, at = '$'): string[] {
  const errs: string[] = [];
  if (schema.type) {
    const want = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!typeOf(value).some((t) => want.includes(t)))
      return [`${at}: ${JSON.stringify(value)} is not ${want.join(' or ')}`];
  }
  if (schema.enum && !schema.enum.includes(value))
    errs.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const o = value as Record<string, unknown>;
    for (const r of schema.required ?? []) if (!(r in o)) errs.push(`${at}: missing "${r}"`);
    for (const [k, v] of Object.entries(o)) {
      const sub = schema.properties?.[k];
      if (sub) errs.push(...validate(sub, v, `${at}.${k}`));
      else if (schema.additionalProperties === false) errs.push(`${at}: unexpected "${k}"`);
    }
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => errs.push(...validate(schema.items!, v, `${at}[${i}]`)));
  return errs;
}
