/**
 * Account time zones: an IANA name (e.g. America/New_York) is turned into the UTC offset the
 * detectors use for time of day and weekends. The offset is taken at one instant (the account's
 * registration or the engine's start), so a daylight-saving change shifts the baseline by an hour
 * until the account is updated; the baseline's hourly interpolation absorbs most of that.
 */

/** True when `tz` is a time zone the runtime knows. */
export function isValidTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** Offset of `tz` from UTC in minutes at instant `atMs` (east positive); 0 for an unknown zone. */
export function utcOffsetMinutes(tz: string, atMs: number): number {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(new Date(atMs));
    const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? '';
    const m = /GMT([+-])(\d{2}):?(\d{2})?/.exec(name);
    if (!m) return 0; // "GMT" alone: UTC
    const minutes = Number(m[2]) * 60 + Number(m[3] ?? 0);
    return m[1] === '-' ? -minutes : minutes;
  } catch {
    return 0;
  }
}
