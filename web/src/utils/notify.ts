import { ElMessage } from 'element-plus'
import { ApiError } from '@/api/errors'
import { i18n } from '@/locales'

/** Return the text to show for a failed request: the server's errmsg, already in the UI language, when there is one. */
export function errorText(error: unknown): string {
  const t = i18n.global.t
  if (error instanceof ApiError) {
    if (error.body) return error.body.errmsg
    if (error.isNetworkError) return t('errors.network')
    return t('errors.unknown', { status: error.status })
  }
  return t('errors.unknown', { status: 0 })
}

export function showError(error: unknown): void {
  // An expired session opens the login page with its own message, so a second message would repeat it.
  if (error instanceof ApiError && error.isNotLoggedIn) return
  ElMessage.error({ message: errorText(error), grouping: true })
}

export function showSuccess(message: string): void {
  ElMessage.success({ message, grouping: true })
}

export function showWarning(message: string): void {
  ElMessage.warning({ message, grouping: true })
}
