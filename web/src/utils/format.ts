import type { AppLanguage } from '@/locales'

const formatters = new Map<AppLanguage, Intl.DateTimeFormat>()
const relativeFormatters = new Map<AppLanguage, Intl.RelativeTimeFormat>()
const numberFormatters = new Map<AppLanguage, Intl.NumberFormat>()

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

const MINUTE = 60
const HOUR = 3600
const DAY = 86_400

/**
 * Format an age of `seconds` as "12 seconds ago" in `language`, in whole seconds, minutes, hours or days.
 * A negative age (a clock running ahead) counts as 0.
 */
export function formatAge(seconds: number, language: AppLanguage): string {
  let formatter = relativeFormatters.get(language)
  if (!formatter) {
    formatter = new Intl.RelativeTimeFormat(language, { numeric: 'always', style: 'short' })
    relativeFormatters.set(language, formatter)
  }
  const age = Math.max(0, seconds)
  if (age < MINUTE) return formatter.format(-Math.floor(age), 'second')
  if (age < HOUR) return formatter.format(-Math.floor(age / MINUTE), 'minute')
  if (age < DAY) return formatter.format(-Math.floor(age / HOUR), 'hour')
  return formatter.format(-Math.floor(age / DAY), 'day')
}

/** Format a number with the grouping of `language`, such as 12,345. */
export function formatNumber(value: number, language: AppLanguage): string {
  let formatter = numberFormatters.get(language)
  if (!formatter) {
    formatter = new Intl.NumberFormat(language)
    numberFormatters.set(language, formatter)
  }
  return formatter.format(value)
}

/** Format a clock difference in seconds with its sign and one decimal, such as +1.5 s or -120.0 s. */
export function formatSkew(seconds: number): string {
  const sign = seconds > 0 ? '+' : seconds < 0 ? '-' : '±'
  return `${sign}${Math.abs(seconds).toFixed(1)} s`
}
