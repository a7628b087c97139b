import { flushPromises } from '@vue/test-utils'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { ApiError } from '@/api/errors'
import * as servicesApi from '@/api/services'
import { i18n } from '@/locales'
import { useEvents } from '@/stores/events'
import ServicesPage from '@/views/services/index.vue'
import { EVENT_DEBOUNCE_MS, RELOAD_INTERVAL_MS } from '@/views/services/useServicesPage'
import { buttonByText, createTestApp, makeSession, mountWithApp } from '../../../support/app'
import { FakeEventSource } from '../../../support/fakeEventSource'
import { makeService, makeServiceList } from '../../../support/services'

vi.mock('@/api/services', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/services')>()),
  listServices: vi.fn(),
  getServiceTimeline: vi.fn(),
}))

// ECharts needs a canvas, which jsdom lacks.
const EChart = defineComponent({ props: { option: Object, label: String }, template: '<div class="chart-stub" />' })

const listServices = vi.mocked(servicesApi.listServices)
const NOW = 1_700_000_000

async function mountServices() {
  const app = createTestApp(makeSession({ roles: ['editor'] }))
  const wrapper = mountWithApp(ServicesPage, app, { EChart })
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'setTimeout', 'clearTimeout', 'Date'] })
  vi.setSystemTime(new Date(NOW * 1000))
  FakeEventSource.reset()
  vi.stubGlobal('EventSource', FakeEventSource)
  listServices.mockResolvedValue(
    makeServiceList(
      [
        makeService({ url: 'http://a/', name: 'alpha', status: 'online', last_heartbeat_at: NOW - 4, clock_skew: 1.5 }),
        makeService({
          url: 'http://b/',
          name: 'beta',
          status: 'offline',
          last_heartbeat_at: null,
          last_poll_ok: false,
          poll_failures: 3,
          last_poll_error: '<b>connect timed out</b>',
        }),
      ],
      { total: 2, counts: { online: 1, suspect: 0, offline: 1, unknown: 0 }, judged_at: NOW },
    ),
  )
})

afterEach(() => {
  useEvents().stop()
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('services page', () => {
  it('lists services with their state in colour', async () => {
    const wrapper = await mountServices()

    const tags = wrapper.findAll('.el-table__body .el-tag--dark')
    expect(tags.map((tag) => tag.text())).toEqual(['在线', '离线'])
    expect(tags[0]?.classes()).toContain('el-tag--success')
    expect(tags[1]?.classes()).toContain('el-tag--danger')
    expect(wrapper.text()).toContain('+1.5 s')
    expect(wrapper.text()).toContain('连续失败 3 次')
  })

  it('shows counts per state and filters by state', async () => {
    const wrapper = await mountServices()
    expect(wrapper.find('[data-test="state-offline"]').text()).toBe('离线 1')

    await wrapper.find('[data-test="state-offline"] input').setValue(true)
    await flushPromises()

    expect(listServices).toHaveBeenLastCalledWith({ limit: 50, offset: 0, state: 'offline' })
  })

  it('counts the heartbeat age up every second', async () => {
    const wrapper = await mountServices()
    const age = () => wrapper.findAll('[data-test="heartbeat-age"]').map((cell) => cell.text())
    expect(age()).toEqual(['4秒前', '从未'])

    await vi.advanceTimersByTimeAsync(3000)

    expect(age()[0]).toBe('7秒前')
  })

  it('shows a poll error as plain text', async () => {
    const wrapper = await mountServices()

    expect(wrapper.find('.poll-error b').exists()).toBe(false)
    expect(wrapper.find('.poll-error').text()).toBe('<b>connect timed out</b>')
  })

  it('explains why TaskDash is blind, in both languages', async () => {
    listServices.mockResolvedValue(makeServiceList([], { blind_reason: 'intake_disconnected', blind_since: NOW - 60 }))
    const wrapper = await mountServices()

    expect(wrapper.find('.blind-banner').text()).toContain('与 NSQ 的连接已断开')
    expect(wrapper.find('.blind-banner').text()).toContain('离线判定已冻结')

    i18n.global.locale.value = 'en'
    await flushPromises()
    expect(wrapper.find('.blind-banner').text()).toContain('its connection to NSQ is down')
    i18n.global.locale.value = 'zh-CN'
  })

  it('reloads every ten seconds', async () => {
    await mountServices()
    listServices.mockClear()

    await vi.advanceTimersByTimeAsync(RELOAD_INTERVAL_MS)

    expect(listServices).toHaveBeenCalledTimes(1)
  })

  it('reloads once after a burst of service events', async () => {
    await mountServices()
    useEvents().start()
    listServices.mockClear()

    for (let index = 0; index < 5; index += 1) {
      FakeEventSource.latest().emit('service', { url: 'http://a/', change: 'state', state: 'suspect', previous: 'online' })
    }
    FakeEventSource.latest().emit('blind', { reason: 'mass_silence', since: NOW })
    await vi.advanceTimersByTimeAsync(EVENT_DEBOUNCE_MS)

    expect(listServices).toHaveBeenCalledTimes(1)
  })

  it('shows the empty state', async () => {
    listServices.mockResolvedValue(makeServiceList([]))

    const wrapper = await mountServices()

    expect(wrapper.text()).toContain('没有符合条件的任务服务')
  })

  it('shows the error state and retries', async () => {
    listServices.mockRejectedValueOnce(new ApiError(503, { errid: 1002, errmsg: '数据库查询失败' }))
    const wrapper = await mountServices()
    expect(wrapper.text()).toContain('任务服务列表加载失败')

    await buttonByText(wrapper, '重试').trigger('click')
    await flushPromises()

    expect(wrapper.text()).toContain('alpha')
  })

  it('draws the heartbeat timeline of an expanded service', async () => {
    vi.mocked(servicesApi.getServiceTimeline).mockResolvedValue({
      url: 'http://a/',
      bucket_seconds: 10,
      buckets: [
        { at: NOW - 20, heartbeats: 2 },
        { at: NOW - 10, heartbeats: 3 },
      ],
    })
    const wrapper = await mountServices()

    await wrapper.find('.el-table__expand-icon').trigger('click')
    await flushPromises()

    expect(servicesApi.getServiceTimeline).toHaveBeenCalledWith('http://a/')
    expect(wrapper.find('.timeline-caption').text()).toBe('最近 0 分钟共 5 次心跳')
    expect(wrapper.find('.chart-stub').exists()).toBe(true)
  })

  it('links the CSV export with the applied filters', async () => {
    const wrapper = await mountServices()
    const link = () => wrapper.find('[data-test="export"]')
    expect(link().element.tagName).toBe('A')
    expect(link().attributes('href')).toBe('/api/v1/services/export.csv')
    expect(link().attributes('download')).toBeDefined()

    await wrapper.find('[data-test="state-offline"] input').setValue(true)
    // Typed text counts only once it is searched for, as in the list.
    await wrapper.find('input[aria-label="按名称、地址或类型搜索"]').setValue('  ocr 2 ')
    await flushPromises()
    expect(link().attributes('href')).toBe('/api/v1/services/export.csv?state=offline')

    await wrapper.find('form.filters').trigger('submit')
    await flushPromises()
    expect(link().attributes('href')).toBe('/api/v1/services/export.csv?state=offline&text=ocr+2')
  })
})
