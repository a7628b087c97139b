// CSV files built in the browser, for data that exists only there: the preview of a bulk assignment.
// Server lists link to the server's exports instead. The format matches those exports: UTF-8 with a
// byte order mark (so that Excel shows Chinese text), CRLF line ends, and a leading ' on cells that a
// spreadsheet would otherwise run as a formula.

export type CsvCell = string | number | boolean | null | undefined

const FORMULA_START = /^[=+\-@\t\r]/
const NEEDS_QUOTES = /[",\r\n]/

function cell(value: CsvCell): string {
  let text = value === null || value === undefined ? '' : String(value)
  // Numbers stay numbers: a negative number is data, not a formula.
  if (typeof value === 'string' && FORMULA_START.test(text)) text = `'${text}`
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text
}

/** Return the CSV text of `header` and `rows`, with a byte order mark. */
export function toCsv(header: readonly string[], rows: readonly (readonly CsvCell[])[]): string {
  const lines = [header, ...rows].map((row) => row.map(cell).join(','))
  return `\uFEFF${lines.join('\r\n')}\r\n`
}

/** Let the browser save `csv` as `filename`. */
export function downloadCsv(filename: string, csv: string): void {
  const url = URL.createObjectURL(new Blob([csv], { type: 'text/csv;charset=utf-8' }))
  const link = document.createElement('a')
  link.href = url
  link.download = filename
  document.body.append(link)
  link.click()
  link.remove()
  // Revoked later, because some browsers read the blob after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 10_000)
}
