import { flushPromises } from '@vue/test-utils'
import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent } from 'vue'
import { ApiError } from '@/api/errors'
import * as servicesApi from '@/api/services'
import * as statsApi from '@/api/stats'
import type { Stats } from '@/api/stats'
import { useEvents } from '@/stores/events'
import OverviewPage from '@/views/overview/index.vue'
import { STATS_DEBOUNCE_MS, statusesOf } from '@/views/overview/useOverview'
import { buttonByText, createTestApp, makeSession, mountWithApp } from '../../support/app'
import { FakeEventSource } from '../../support/fakeEventSource'
import { makeService, makeServiceList } from '../../support/services'

vi.mock('@/api/stats', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/stats')>()),
  getStats: vi.fn(),
}))
vi.mock('@/api/services')

// ECharts needs a canvas, which jsdom lacks; the stub keeps the option for the assertions.
const EChart = defineComponent({
  props: { option: { type: Object, required: true }, label: String },
  template: '<div class="chart-stub" :data-label="label" />',
})

function makeStats(changes: Partial<Stats> = {}): Stats {
  return {
    by_status: { notget: 5, running: 3, checking: 1, finish: 10, shutdown: 2 },
    by_user: { alice: { running: 2, finish: 6 }, bob: { running: 1, checking: 1, finish: 4 } },
    by_group: { g1: { running: 3, finish: 10 } },
    by_service: { 'http://a/': { notget: 5, running: 3, checking: 1, finish: 10, shutdown: 2 } },
    finished_per_day: [
      { date: '2026-12-03', count: 4 },
      { date: '2026-12-04', count: 6 },
    ],
    ...changes,
  }
}

async function mountOverview() {
  const app = createTestApp(makeSession({ roles: ['manager'] }))
  const wrapper = mountWithApp(OverviewPage, app, { EChart })
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  setActivePinia(createPinia())
  FakeEventSource.reset()
  vi.stubGlobal('EventSource', FakeEventSource)
  vi.mocked(statsApi.getStats).mockResolvedValue(makeStats())
  vi.mocked(servicesApi.listServices).mockResolvedValue(makeServiceList([makeService({ url: 'http://a/', name: 'alpha' })]))
})

afterEach(() => {
  useEvents().stop()
  vi.useRealTimers()
  document.body.innerHTML = ''
})

describe('statusesOf', () => {
  it('puts workflow statuses first and reported ones after them', () => {
    expect(statusesOf(makeStats())).toEqual(['notget', 'running', 'checking', 'finish', 'shutdown'])
  })
})

describe('overview page', () => {
  it('shows counts by status as cards', async () => {
    const wrapper = await mountOverview()

    expect(wrapper.find('[data-test="total-count"]').text()).toBe('21')
    expect(wrapper.find('[data-test="count-finish"]').text()).toBe('10')
    expect(wrapper.find('[data-test="count-shutdown"]').text()).toBe('2')
    expect(wrapper.text()).toContain('已完成')
  })

  it('lists tasks per group, user and service, with service names', async () => {
    const wrapper = await mountOverview()

    const text = wrapper.findAll('.breakdown').map((card) => card.text())
    expect(text[0]).toContain('g1')
    expect(text[1]).toContain('alice')
    expect(text[2]).toContain('alpha')
  })

  it('links each table to its CSV export', async () => {
    const wrapper = await mountOverview()

    const links = wrapper.findAll('[data-test="breakdown-export"]')
    expect(links.map((link) => link.element.tagName)).toEqual(['A', 'A', 'A'])
    expect(links.map((link) => link.attributes('href'))).toEqual([
      '/api/v1/stats/export.csv?table=by_group',
      '/api/v1/stats/export.csv?table=by_user',
      '/api/v1/stats/export.csv?table=by_service',
    ])
  })

  it('charts finished tasks per day and the status distribution', async () => {
    const wrapper = await mountOverview()

    const charts = wrapper.findAllComponents(EChart)
    expect(charts).toHaveLength(2)
    const finished = charts[0]?.props('option') as { series: { data: number[] }[]; xAxis: { data: string[] } }
    expect(finished.series[0]?.data).toEqual([4, 6])
    expect(finished.xAxis.data).toEqual(['12-03', '12-04'])
    const pie = charts[1]?.props('option') as { series: { data: { name: string; value: number }[] }[] }
    expect(pie.series[0]?.data.map((slice) => slice.name)).toEqual(['未领取', '进行中', '待校验', '已完成', 'shutdown'])
  })

  it('reloads once after a burst of task events', async () => {
    vi.useFakeTimers()
    await mountOverview()
    useEvents().start()
    vi.mocked(statsApi.getStats).mockClear()

    FakeEventSource.latest().emit('tasks', { service_url: 'http://a/', count: 200 })
    FakeEventSource.latest().emit('tasks', { service_url: 'http://a/', count: 20 })
    await vi.advanceTimersByTimeAsync(STATS_DEBOUNCE_MS)

    expect(statsApi.getStats).toHaveBeenCalledTimes(1)
  })

  it('shows an empty chart placeholder without tasks', async () => {
    vi.mocked(statsApi.getStats).mockResolvedValue(
      makeStats({ by_status: {}, by_user: {}, by_group: {}, by_service: {}, finished_per_day: [] }),
    )

    const wrapper = await mountOverview()

    expect(wrapper.findAllComponents(EChart)).toHaveLength(1)
    expect(wrapper.text()).toContain('暂无任务')
  })

  it('shows the error state and retries', async () => {
    vi.mocked(statsApi.getStats).mockRejectedValueOnce(new ApiError(503, { errid: 1002, errmsg: '数据库查询失败' }))
    const wrapper = await mountOverview()
    expect(wrapper.text()).toContain('统计数据加载失败')

    await buttonByText(wrapper, '重试').trigger('click')
    await flushPromises()

    expect(wrapper.find('[data-test="total-count"]').exists()).toBe(true)
  })
})
