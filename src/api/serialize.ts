/**
 * API serialisation: every `...Ms` instant of a domain object becomes an ISO 8601 UTC string
 * under the name without the suffix (`openedAtMs` -> `openedAt`), recursively.
 */

/** Converts `...Ms` number fields to ISO strings, recursively; other values pass through. */
export function toApi(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(toApi);
  if (value === null || typeof value !== 'object') return value;
  if (value instanceof Uint8Array) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k.endsWith('Ms') && k.length > 2 && (typeof v === 'number' || v === undefined)) {
      // beyond +-8.64e15 ms a Date is invalid: leave the instant out rather than fail the response
      if (v !== undefined && Number.isFinite(v) && Math.abs(v) <= 8.64e15) out[k.slice(0, -2)] = new Date(v).toISOString();
      continue;
    }
    out[k] = toApi(v);
  }
  return out;
}

/** Parses an API time parameter: ISO 8601 or epoch milliseconds; undefined when absent. */
export function parseTimeParam(raw: string | undefined): number | undefined | Error {
  if (raw === undefined || raw === '') return undefined;
  if (/^-?\d+$/.test(raw)) return Number(raw);
  const ms = Date.parse(raw);
  if (Number.isNaN(ms)) return new Error(`"${raw}" is not an ISO 8601 time or epoch milliseconds`);
  return ms;
}
