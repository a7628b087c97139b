import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import * as sessionApi from '@/api/session'
import AppLayout from '@/layout/AppLayout.vue'
import { useEvents } from '@/stores/events'
import { useSessionStore } from '@/stores/session'
import { buttonByText, createTestApp, makeSession, mountWithApp } from '../support/app'
import { FakeEventSource } from '../support/fakeEventSource'

vi.mock('@/api/session')
vi.mock('@/utils/notify', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/utils/notify')>()),
  showError: vi.fn(),
  showSuccess: vi.fn(),
}))

const Empty = defineComponent({ template: '<div />' })

async function mountLayout(roles: string[]) {
  const app = createTestApp(makeSession({ roles, display_name: 'Alice Liu' }))
  const wrapper = mountWithApp(AppLayout, app, { RouterView: Empty })
  await flushPromises()
  return { wrapper, router: app.router }
}

function menuTexts(wrapper: Awaited<ReturnType<typeof mountLayout>>['wrapper']): string[] {
  return wrapper.findAll('.el-menu-item').map((item) => item.text())
}

beforeEach(() => {
  FakeEventSource.reset()
  vi.stubGlobal('EventSource', FakeEventSource)
})

afterEach(() => {
  useEvents().stop()
  document.body.innerHTML = ''
})

describe('app shell', () => {
  it('shows an editor the hall and my tasks', async () => {
    const { wrapper } = await mountLayout(['editor'])

    expect(menuTexts(wrapper)).toEqual(['任务大厅', '我的任务', '概览', '任务服务'])
    expect(wrapper.text()).toContain('Alice Liu')
  })

  it('shows a checker the review page and the read-only pages', async () => {
    const { wrapper } = await mountLayout(['checker'])

    expect(menuTexts(wrapper)).toEqual(['校验', '概览', '任务服务'])
  })

  it('shows a manager the assign page', async () => {
    const { wrapper } = await mountLayout(['manager'])

    expect(menuTexts(wrapper)).toEqual(['任务大厅', '分配', '概览', '任务服务'])
  })

  it('shows an admin every page', async () => {
    const { wrapper } = await mountLayout(['admin'])

    expect(menuTexts(wrapper)).toEqual(['任务大厅', '我的任务', '校验', '分配', '概览', '任务服务', '管理'])
  })

  it('opens the event stream', async () => {
    await mountLayout(['editor'])

    expect(FakeEventSource.instances).toHaveLength(1)
  })

  it('shows why TaskDash is blind', async () => {
    const { wrapper } = await mountLayout(['editor'])

    FakeEventSource.latest().emit('blind', { reason: 'NSQ intake disconnected' })
    await flushPromises()

    expect(wrapper.find('.el-alert').text()).toContain('NSQ intake disconnected')

    FakeEventSource.latest().emit('blind', { reason: null })
    await flushPromises()
    expect(wrapper.find('.el-alert').exists()).toBe(false)
  })

  it('names the reason codes of blindness', async () => {
    const { wrapper } = await mountLayout(['editor'])

    FakeEventSource.latest().emit('blind', { reason: 'mass_silence', since: 1_700_000_000 })
    await flushPromises()

    expect(wrapper.find('.el-alert').text()).toContain('大多数任务服务同时没有心跳')
  })

  it('keeps the admin menu entry active on every admin tab', async () => {
    const { wrapper, router } = await mountLayout(['admin'])

    await router.push('/admin/dead-letters')
    await flushPromises()

    expect(wrapper.find('.el-menu-item.is-active').text()).toBe('管理')
  })

  it('logs out, closes the stream and opens the login page', async () => {
    vi.mocked(sessionApi.logout).mockResolvedValue(undefined)
    const { wrapper, router } = await mountLayout(['editor'])
    const source = FakeEventSource.latest()

    await buttonByText(wrapper, '退出登录').trigger('click')
    await flushPromises()

    expect(sessionApi.logout).toHaveBeenCalledTimes(1)
    expect(useSessionStore().isLoggedIn).toBe(false)
    expect(source.readyState).toBe(FakeEventSource.CLOSED)
    await vi.waitFor(() => expect(router.currentRoute.value.name).toBe('login'))
  })
})
