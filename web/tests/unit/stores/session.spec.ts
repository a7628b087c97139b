import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import * as sessionApi from '@/api/session'
import { useSessionStore } from '@/stores/session'
import { makeSession } from '../../support/app'

vi.mock('@/api/session')

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('session store', () => {
  it('keeps the user and CSRF token after login', async () => {
    vi.mocked(sessionApi.login).mockResolvedValue(makeSession({ roles: ['checker'], csrf_token: 'abc' }))
    const session = useSessionStore()

    await session.login('alice', 'secret')

    expect(sessionApi.login).toHaveBeenCalledWith('alice', 'secret')
    expect(session.isLoggedIn).toBe(true)
    expect(session.csrfToken).toBe('abc')
    expect(session.hasRole('checker')).toBe(true)
    expect(session.hasRole('editor', 'admin')).toBe(false)
  })

  it('shows the username when the display name is empty', async () => {
    vi.mocked(sessionApi.login).mockResolvedValue(makeSession({ display_name: '' }))
    const session = useSessionStore()

    await session.login('alice', 'secret')

    expect(session.displayName).toBe('alice')
  })

  it('treats HTTP 401 on refresh as logged out', async () => {
    vi.mocked(sessionApi.fetchSession).mockRejectedValue(new ApiError(401, { errid: 1003, errmsg: '用户未登录' }))
    const session = useSessionStore()

    expect(await session.refresh()).toBeNull()
    expect(session.checked).toBe(true)
    expect(session.isLoggedIn).toBe(false)
  })

  it('rethrows other refresh failures', async () => {
    vi.mocked(sessionApi.fetchSession).mockRejectedValue(new ApiError(0, null))
    const session = useSessionStore()

    await expect(session.refresh()).rejects.toBeInstanceOf(ApiError)
    expect(session.checked).toBe(true)
  })

  it('asks the server only once', async () => {
    vi.mocked(sessionApi.fetchSession).mockResolvedValue(makeSession())
    const session = useSessionStore()

    await session.ensureChecked()
    await session.ensureChecked()

    expect(sessionApi.fetchSession).toHaveBeenCalledTimes(1)
  })

  it('forgets the session on logout even when the request fails', async () => {
    vi.mocked(sessionApi.login).mockResolvedValue(makeSession())
    vi.mocked(sessionApi.logout).mockRejectedValue(new ApiError(0, null))
    const session = useSessionStore()
    await session.login('alice', 'secret')

    await expect(session.logout()).rejects.toBeInstanceOf(ApiError)

    expect(session.isLoggedIn).toBe(false)
    expect(session.csrfToken).toBeNull()
  })
})
