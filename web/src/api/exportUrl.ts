import type { paths } from './schema'

/** The REST paths that stream a list as CSV. */
export type ExportPath = Extract<keyof paths, `${string}/export.csv`>
/** The query parameters of the CSV export at `P`: the filters of its list. */
export type ExportQuery<P extends ExportPath> = NonNullable<paths[P]['get']['parameters']['query']>

/**
 * Return the URL of the CSV export at `path` with the filters in `query`, for a download link.
 * Undefined, null and empty values are left out, so an unset filter selects everything.
 */
export function exportUrl<P extends ExportPath>(path: P, query?: ExportQuery<P>): string {
  const params = new URLSearchParams()
  for (const [key, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    if (value !== undefined && value !== null && value !== '') params.set(key, String(value))
  }
  const encoded = params.toString()
  return encoded ? `${path}?${encoded}` : path
}
