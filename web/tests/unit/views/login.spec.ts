import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import * as sessionApi from '@/api/session'
import { i18n } from '@/locales'
import { useLocaleStore } from '@/stores/locale'
import * as notify from '@/utils/notify'
import LoginPage from '@/views/login/index.vue'
import { localRedirect } from '@/views/login/useLogin'
import { createTestApp, makeSession, mountWithApp } from '../../support/app'

vi.mock('@/api/session')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

async function mountLogin(path = '/login') {
  const app = createTestApp(null)
  await app.router.push(path)
  const wrapper = mountWithApp(LoginPage, app)
  await flushPromises()
  return { wrapper, router: app.router }
}

async function fillAndSubmit(wrapper: Awaited<ReturnType<typeof mountLogin>>['wrapper']) {
  await wrapper.find('input[name="username"]').setValue(' alice ')
  await wrapper.find('input[name="password"]').setValue('secret')
  await wrapper.find('form').trigger('submit')
  await flushPromises()
}

beforeEach(() => {
  localStorage.clear()
})

afterEach(() => {
  document.body.innerHTML = ''
})

describe('login page', () => {
  it('logs in and opens the first page of the user', async () => {
    vi.mocked(sessionApi.login).mockResolvedValue(makeSession({ roles: ['checker'] }))
    const { wrapper, router } = await mountLogin()

    await fillAndSubmit(wrapper)

    expect(sessionApi.login).toHaveBeenCalledWith('alice', 'secret')
    expect(notify.showSuccess).toHaveBeenCalledWith('欢迎，Alice')
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('review'))
  })

  it('returns to the page that asked for login', async () => {
    vi.mocked(sessionApi.login).mockResolvedValue(makeSession())
    const { wrapper, router } = await mountLogin('/login?redirect=/tasks/mine')

    await fillAndSubmit(wrapper)

    await vi.waitFor(() => expect(router.currentRoute.value.fullPath).toBe('/tasks/mine'))
  })

  it('shows the server message for wrong credentials', async () => {
    const failure = new ApiError(401, { errid: 1007, errmsg: '用户名或密码错误' })
    vi.mocked(sessionApi.login).mockRejectedValue(failure)
    const { wrapper, router } = await mountLogin()

    await fillAndSubmit(wrapper)

    expect(notify.showError).toHaveBeenCalledWith(failure)
    expect(router.currentRoute.value.name).toBe('login')
  })

  it('does not submit an empty form', async () => {
    const { wrapper } = await mountLogin()

    await wrapper.find('form').trigger('submit')
    await flushPromises()

    expect(sessionApi.login).not.toHaveBeenCalled()
  })

  it('switches the language of the page', async () => {
    const { wrapper } = await mountLogin()
    expect(wrapper.find('h1').text()).toBe('登录 TaskDash')

    useLocaleStore().setLanguage('en')
    await flushPromises()

    expect(wrapper.find('h1').text()).toBe('Log in to TaskDash')
    expect(wrapper.find('input[name="password"]').attributes('placeholder')).toBe('Your password')
    i18n.global.locale.value = 'zh-CN'
  })
})

describe('localRedirect', () => {
  it('keeps paths on this site', () => {
    expect(localRedirect('/tasks/mine?status=checking')).toBe('/tasks/mine?status=checking')
  })

  it('rejects other sites and non-strings', () => {
    expect(localRedirect('https://example.com/')).toBeNull()
    expect(localRedirect('//example.com/x')).toBeNull()
    expect(localRedirect('/\\example.com')).toBeNull()
    expect(localRedirect(['/a'])).toBeNull()
  })
})
