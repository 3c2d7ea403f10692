// The JSON schema of `oob status --json` (version 1). Stable: fields are only ever added, and a
// change of meaning bumps "version". A test checks real output against it.
const str = { type: 'string' };
const strOrNull = { type: ['string', 'null'] };
const intOrNull = { type: ['integer', 'null'] };
const bool = { type: 'boolean' };
const strs = { type: 'array', items: str };
const boolOrNull = { type: ['boolean', 'null'] };
const side = { type: 'string', enum: ['host', 'namespace'] };
const health = { type: 'string', enum: ['ok', 'degraded', 'down'] };
const obj = (properties: Record<string, unknown>) => ({
  type: 'object',
  required: Object.keys(properties),
  additionalProperties: false,
  properties,
});

export const statusSchema = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'oob status --json, version 1',
  ...obj({
    version: { type: 'integer', enum: [1] },
    generatedAt: str,
    health,
    profiles: {
      type: 'array',
      items: obj({
        name: str,
        health,
        problems: strs,
        profile: obj({ file: str, valid: bool, error: strOrNull }),
        unit: obj({ systemd: bool, enabled: { type: ['boolean', 'null'] } }),
        supervisor: obj({ running: bool, pid: intOrNull, since: strOrNull }),
        namespace: obj({ exists: bool }),
        nic: obj({
          name: strOrNull,
          mac: strOrNull,
          inNamespace: bool,
          leftInHost: bool,
          up: bool,
          carrier: bool,
          mtu: intOrNull,
        }),
        addresses: strs,
        missingAddresses: strs,
        gateways: {
          type: 'array',
          items: obj({
            address: str,
            family: { type: 'integer', enum: [4, 6] },
            route: bool,
            neighbour: strOrNull,
            probe: { type: ['string', 'null'], enum: ['answered', 'unanswered', 'static', null] },
          }),
        },
        dns: obj({ expected: bool, present: bool }),
        dhcp: {
          type: ['object', 'null'],
          required: ['address', 'server', 'obtained', 'expires', 'valid'],
          additionalProperties: false,
          properties: { address: strOrNull, server: strOrNull, obtained: strOrNull, expires: strOrNull, valid: bool },
        },
        dhcp6: {
          type: ['object', 'null'],
          required: ['address', 'server', 'obtained', 'expires', 'valid'],
          additionalProperties: false,
          properties: { address: strOrNull, server: strOrNull, obtained: strOrNull, expires: strOrNull, valid: bool },
        },
        slaac: {
          type: ['object', 'null'],
          required: ['addresses'],
          additionalProperties: false,
          properties: { addresses: strs },
        },
        services: {
          type: 'array',
          items: obj({
            name: str,
            phase: str,
            pid: intOrNull,
            uptimeSec: intOrNull,
            restarts: { type: 'integer' },
            ready: bool,
            listening: strs,
            crashLoop: bool,
            lastExit: {
              type: ['object', 'null'],
              required: ['code', 'signal', 'reason', 'at'],
              additionalProperties: false,
              properties: { code: intOrNull, signal: strOrNull, reason: str, at: str },
            },
          }),
        },
        overlapsWithHost: strs,
        links: obj({
          veth: {
            ...obj({
              name: str,
              hostName: str,
              inHost: bool,
              inNamespace: bool,
              up: bool,
              addresses: strs,
              missingAddresses: strs,
              hostAddresses: strs,
            }),
            type: ['object', 'null'],
          },
          bridge: {
            ...obj({
              name: str,
              exists: bool,
              ours: bool,
              up: bool,
              port: bool,
              addresses: strs,
              missingAddresses: strs,
            }),
            type: ['object', 'null'],
          },
          routes: {
            type: 'array',
            items: obj({ where: { type: 'string', enum: ['namespace', 'host'] }, dst: str, via: str, present: bool }),
          },
        }),
        nat: {
          type: 'array',
          items: obj({ side, subnet: str, out: str, present: bool }),
        },
        forwards: {
          type: 'array',
          items: obj({
            side,
            proto: { type: 'string', enum: ['tcp', 'udp'] },
            listen: strOrNull,
            port: { type: 'integer' },
            to: str,
            toPort: { type: 'integer' },
            present: bool,
          }),
        },
        ipForward: obj({ host: boolOrNull, namespace: boolOrNull }),
        pending: {
          type: ['object', 'null'],
          required: ['what', 'state', 'since', 'deadline', 'revert', 'workerAlive'],
          additionalProperties: false,
          properties: { what: str, state: str, since: str, deadline: strOrNull, revert: str, workerAlive: bool },
        },
      }),
    },
  }),
} as const;
