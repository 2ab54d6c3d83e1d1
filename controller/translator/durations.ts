// Gateway API durations (GEP-2257): one to four `<number><unit>` parts with
// units h, m, s, ms, e.g. `1h30m`, `500ms`. Returns milliseconds, or undefined
// when the value is not a valid duration.
const PART = /([0-9]{1,5})(h|ms|m|s)/y;
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1_000, ms: 1 };

export function parseDuration(value: string): number | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let total = 0;
  let parts = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < value.length) {
    const m = PART.exec(value);
    if (!m) return undefined;
    total += Number(m[1]) * UNIT_MS[m[2]!]!;
    parts++;
  }
  return parts >= 1 && parts <= 4 ? total : undefined;
}
