// The typed HTTP client of the REST API (openapi-fetch over the generated schema.d.ts).
// Every request sends Accept-Language, so that errmsg comes back in the UI language. Every write also
// sends the session's CSRF token, because the server rejects a write without it (HTTP 403, errid 1013).
import createClient, { type Middleware } from 'openapi-fetch'
import { ApiError, ErrId, isErrorBody } from './errors'
import type { paths } from './schema'

export interface ClientHooks {
  language(): string
  csrfToken(): string | null
  /** Called when the session is missing or expired (HTTP 401, errid 1003). */
  onNotLoggedIn(error: ApiError): void
  /** Called when the server rejected the CSRF token, so the session can fetch the current one. */
  onCsrfRejected(error: ApiError): void
}

const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])

let hooks: ClientHooks = {
  language: () => 'zh-CN',
  csrfToken: () => null,
  onNotLoggedIn: () => undefined,
  onCsrfRejected: () => undefined,
}

export function configureClient(next: ClientHooks): void {
  hooks = next
}

const headers: Middleware = {
  onRequest({ request }) {
    request.headers.set('Accept-Language', hooks.language())
    const token = hooks.csrfToken()
    if (token && WRITE_METHODS.has(request.method)) {
      request.headers.set('X-CSRF-Token', token)
    }
    return request
  },
}

export const client = createClient<paths>({
  // An absolute base, because Request() rejects relative URLs outside a browser (in unit tests).
  baseUrl: globalThis.location?.origin ?? '',
  credentials: 'same-origin',
  // Looked up per call, so that tests can stub globalThis.fetch after this module loads.
  fetch: (request: Request) => globalThis.fetch(request),
})
client.use(headers)

interface ClientResult<T> {
  data?: T
  error?: unknown
  response: Response
}

async function settle<T>(pending: Promise<ClientResult<T>>): Promise<ClientResult<T>> {
  let result: ClientResult<T>
  try {
    result = await pending
  } catch (cause) {
    throw new ApiError(0, null, cause)
  }
  if (result.response.ok) return result

  const error = new ApiError(result.response.status, isErrorBody(result.error) ? result.error : null)
  if (error.isNotLoggedIn) hooks.onNotLoggedIn(error)
  if (error.errid === ErrId.CSRF_TOKEN_INVALID) hooks.onCsrfRejected(error)
  throw error
}

/** Return the body of a successful response; throw ApiError for an error response or a failed request. */
export async function call<T>(pending: Promise<ClientResult<T>>): Promise<T> {
  const result = await settle(pending)
  if (result.data === undefined) {
    throw new ApiError(result.response.status, null, new Error('the response has no body'))
  }
  return result.data
}

/** Wait for a response without a body (HTTP 204); throw ApiError as call() does. */
export async function callEmpty(pending: Promise<ClientResult<unknown>>): Promise<void> {
  await settle(pending)
}
