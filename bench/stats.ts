/**
 * The `p`th percentile of `values` (any order), as the logins, revocation and system benches
 * report it: the value at rank floor(p% × n) of the sorted values (the highest for p = 100).
 */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}
