/** Sorting by UTF-16 code units, never by the locale: artifacts and reports are the same on every machine. */
export function codePointOrder(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
