// Model names matched by globs (`*` any run of characters, `?` one), as MODEL_PRICES and an API
// key's allowed models write them.

export const globToRegExp = (glob: string) =>
  new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`)

/** Whether a name matches any of the patterns (exact names or globs). */
export function matchesAny(name: string, patterns: readonly string[]): boolean {
  return patterns.some((pattern) => pattern === name || (/[*?]/.test(pattern) && globToRegExp(pattern).test(name)))
}
