import { i18n } from '@/locales'

// Reason codes of the server's liveness monitor (BlindReason in src/taskdash/services/liveness.py).
export const BLIND_REASONS = ['starting', 'intake_disconnected', 'mass_silence'] as const

/** Return the short label of a blind reason code in the UI language; an unknown code is shown as it is. */
export function blindReasonLabel(reason: string): string {
  const { t, te } = i18n.global
  const key = `events.blindReasons.${reason}`
  return te(key) ? t(key) : reason || t('events.blindUnknownReason')
}

/** Return what a blind reason means for the user, or the generic explanation for an unknown code. */
export function blindReasonHelp(reason: string): string {
  const { t, te } = i18n.global
  const key = `services.blindHelp.${reason}`
  return te(key) ? t(key) : t('services.blindHelp.other')
}
