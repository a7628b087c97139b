// Errors of the REST API. Every error response has the body {errid, errmsg, detail?}: errmsg is in the
// request's Accept-Language, detail is English and names the value at fault. The server's error table is
// src/taskdash/errors.py; the codes the dashboard acts on are listed here.

export const ErrId = {
  BAD_REQUEST: 1000,
  NOT_LOGGED_IN: 1003,
  PERMISSION_DENIED: 1004,
  TASK_NOT_FOUND: 1005,
  ALREADY_CLAIMED: 1006,
  WRONG_CREDENTIALS: 1007,
  INVALID_STATE_CHANGE: 1008,
  CSRF_TOKEN_INVALID: 1013,
} as const

export interface ErrorBody {
  errid: number
  errmsg: string
  detail?: string
}

export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false
  const body = value as Record<string, unknown>
  return (
    typeof body.errid === 'number' &&
    typeof body.errmsg === 'string' &&
    (body.detail === undefined || typeof body.detail === 'string')
  )
}

/** A failed API request. `status` is 0 when no response arrived; `body` is null when the response was not an error body. */
export class ApiError extends Error {
  readonly status: number
  readonly body: ErrorBody | null

  constructor(status: number, body: ErrorBody | null, cause?: unknown) {
    super(body ? `${body.errid} ${body.errmsg}${body.detail ? `: ${body.detail}` : ''}` : `HTTP ${status}`, { cause })
    this.name = 'ApiError'
    this.status = status
    this.body = body
  }

  get errid(): number | null {
    return this.body?.errid ?? null
  }

  get isNetworkError(): boolean {
    return this.status === 0
  }

  /** True when the session is missing or expired, as opposed to a failed login (errid 1007, also HTTP 401). */
  get isNotLoggedIn(): boolean {
    return this.status === 401 && this.errid === ErrId.NOT_LOGGED_IN
  }
}
