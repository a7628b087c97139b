import { describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import * as sessionApi from '@/api/session'
import { i18n } from '@/locales'
import { pageTitle } from '@/router'
import { useSessionStore } from '@/stores/session'
import * as notify from '@/utils/notify'
import { createTestApp, makeSession } from '../support/app'

vi.mock('@/api/session')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
}))

async function visit(path: string, roles: string[] | null) {
  const { router } = createTestApp(roles ? makeSession({ roles }) : null)
  await router.push(path)
  return router.currentRoute.value
}

describe('router guard', () => {
  it('sends visitors without a session to login, remembering the page', async () => {
    const route = await visit('/tasks/mine', null)

    expect(route.name).toBe('login')
    expect(route.query.redirect).toBe('/tasks/mine')
  })

  it('opens the first page that the roles allow', async () => {
    expect((await visit('/', ['editor'])).name).toBe('hall')
    expect((await visit('/', ['checker'])).name).toBe('review')
  })

  it('keeps users out of pages of other roles', async () => {
    expect((await visit('/tasks/hall', ['checker'])).name).toBe('review')
    expect((await visit('/tasks/review', ['editor'])).name).toBe('hall')
  })

  it('keeps everyone but admins out of the admin pages', async () => {
    expect((await visit('/admin/users', ['manager'])).name).toBe('hall')
    expect((await visit('/admin', ['admin'])).name).toBe('admin-users')
    expect((await visit('/admin/dead-letters', ['admin'])).name).toBe('admin-dead-letters')
  })

  it('opens the assign page to managers and admins only', async () => {
    expect((await visit('/tasks/assign', ['manager'])).name).toBe('assign')
    expect((await visit('/tasks/assign', ['editor'])).name).toBe('hall')
  })

  it('opens the overview and services pages to every role', async () => {
    expect((await visit('/overview', ['checker'])).name).toBe('overview')
    expect((await visit('/services', ['editor'])).name).toBe('services')
  })

  it('sends logged-in users away from the login page', async () => {
    expect((await visit('/login', ['editor'])).name).toBe('hall')
  })

  it('shows the not-found page for unknown paths', async () => {
    expect((await visit('/no/such/page', ['editor'])).name).toBe('not-found')
  })

  it('asks the server for the session once, on the first navigation', async () => {
    vi.mocked(sessionApi.fetchSession).mockResolvedValue(makeSession({ roles: ['admin'] }))
    const { router } = createTestApp(null)
    useSessionStore().$patch({ checked: false })

    await router.push('/tasks/review')
    await router.push('/tasks/mine')

    expect(router.currentRoute.value.name).toBe('mine')
    expect(sessionApi.fetchSession).toHaveBeenCalledTimes(1)
  })

  it('opens the login page with a message when the server is unreachable', async () => {
    const failure = new ApiError(0, null)
    vi.mocked(sessionApi.fetchSession).mockRejectedValue(failure)
    const { router } = createTestApp(null)
    useSessionStore().$patch({ checked: false })

    await router.push('/tasks/hall')

    expect(router.currentRoute.value.name).toBe('login')
    expect(notify.showError).toHaveBeenCalledWith(failure)
  })
})

describe('pageTitle', () => {
  it('translates the route title', async () => {
    const { router } = createTestApp(makeSession())
    await router.push('/tasks/hall')

    expect(pageTitle(router.currentRoute.value)).toBe('任务大厅 · TaskDash 任务管理')
    i18n.global.locale.value = 'en'
    expect(pageTitle(router.currentRoute.value)).toBe('Task hall · TaskDash task management')
    i18n.global.locale.value = 'zh-CN'
  })

  it('names only the app before the first navigation', () => {
    const { router } = createTestApp(makeSession())

    expect(pageTitle(router.currentRoute.value)).toBe('TaskDash 任务管理')
  })
})
