// Durations as people write them in settings: "90s", "15m", "24h", "7d" (also "500ms" and a bare "0").
const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseDuration(text: string): number | null {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/i.exec(text);
  if (!match) return null;
  const amount = Number(match[1]);
  const unit = match[2]?.toLowerCase();
  if (unit === undefined) return amount === 0 ? 0 : null;
  const ms = amount * (UNITS[unit] ?? Number.NaN);
  return Number.isSafeInteger(ms) ? ms : null;
}

/** The shortest exact way to say a duration: 86400000 → "1d", 90000 → "90s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  for (const unit of ['d', 'h', 'm', 's'] as const) {
    const size = UNITS[unit] as number;
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
