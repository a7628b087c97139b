import type { AppLanguage } from '@/locales'

const formatters = new Map<AppLanguage, Intl.DateTimeFormat>()

/** Format Unix time `seconds` as a local date and time in `language`; null and 0 give an empty string. */
export function formatTime(seconds: number | null | undefined, language: AppLanguage): string {
  if (!seconds) return ''
  let formatter = formatters.get(language)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(language, { dateStyle: 'short', timeStyle: 'medium' })
    formatters.set(language, formatter)
  }
  return formatter.format(new Date(seconds * 1000))
}
