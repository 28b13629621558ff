/**
 * Option handling shared by the detectors and their stages: defaults filled in, numbers checked,
 * and a RangeError that names the stage, the option and the bad value.
 */

/** `defaults` with every option that is set laid over it (an option given as undefined keeps its default). */
export function withDefaults<T extends object>(defaults: T, options: object): T {
  const o: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
  for (const [k, v] of Object.entries(options)) if (v !== undefined) o[k] = v;
  return o as T;
}

/** A value rule for {@link checkNumbers}: its wording in the error, and the test. */
export interface NumberRule {
  says: string;
  ok: (v: number) => boolean;
}

export const POSITIVE: NumberRule = { says: 'a positive number', ok: (v) => v > 0 };
export const NON_NEGATIVE: NumberRule = { says: 'a non-negative number', ok: (v) => v >= 0 };
export const FINITE: NumberRule = { says: 'a finite number', ok: () => true };

/**
 * Throws RangeError `<stage> option <key> must be <rule>, got <value>` for the first of `keys`
 * whose value in `o` is not a finite number passing `rule`.
 */
export function checkNumbers<T extends object>(stage: string, o: T, keys: ReadonlyArray<keyof T & string>, rule: NumberRule): void {
  for (const k of keys) {
    const v = o[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || !rule.ok(v)) {
      throw new RangeError(`${stage} option ${k} must be ${rule.says}, got ${String(v)}`);
    }
  }
}
