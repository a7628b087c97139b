import { computed, getCurrentScope, onMounted, onScopeDispose, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { getStats, type Stats, type StatusCounts } from '@/api/stats'
import { useServerEvent } from '@/stores/events'
import { useServicesStore } from '@/stores/services'
import type { ChartOption } from '@/utils/echarts'
import { debounce } from '@/utils/debounce'
import { showError } from '@/utils/notify'

// Statistics count every visible task: reload at most once per burst of task events.
export const STATS_DEBOUNCE_MS = 2_000

/** The statuses TaskDash's workflow uses, in workflow order; statuses that services report follow them. */
export const WORKFLOW_STATUSES = ['notget', 'running', 'checking', 'finish'] as const

// Element Plus's palette, so that the charts match the status tags.
const STATUS_COLOURS: Record<string, string> = {
  notget: '#909399',
  running: '#409eff',
  checking: '#e6a23c',
  finish: '#67c23a',
}

export type Breakdown = 'by_group' | 'by_user' | 'by_service'

export interface BreakdownRow {
  /** Group name, username or service URL. */
  key: string
  /** What the table shows: the service's name for services, else the key. */
  name: string
  counts: StatusCounts
  total: number
}

function sum(counts: StatusCounts): number {
  return Object.values(counts).reduce((total, count) => total + count, 0)
}

/** Return the statuses in `stats`, workflow statuses first, then the others sorted. */
export function statusesOf(stats: Stats | null): string[] {
  const found = new Set<string>(WORKFLOW_STATUSES)
  for (const breakdown of [stats?.by_user, stats?.by_group, stats?.by_service]) {
    for (const counts of Object.values(breakdown ?? {})) for (const status of Object.keys(counts)) found.add(status)
  }
  for (const status of Object.keys(stats?.by_status ?? {})) found.add(status)
  const others = [...found].filter((status) => !(WORKFLOW_STATUSES as readonly string[]).includes(status)).sort()
  return [...WORKFLOW_STATUSES, ...others]
}

/** Provide the overview page: task counts by status, per group, user and service, and finished tasks per day. */
export function useOverview() {
  const { t, te } = useI18n()
  const services = useServicesStore()

  const stats = shallowRef<Stats | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  let loadSequence = 0

  async function load(quiet = false): Promise<void> {
    const sequence = ++loadSequence
    if (!quiet) loading.value = true
    try {
      const loaded = await getStats()
      if (sequence !== loadSequence) return
      stats.value = loaded
      error.value = null
    } catch (failure) {
      if (sequence !== loadSequence) return
      error.value = failure
    } finally {
      if (sequence === loadSequence) loading.value = false
    }
  }

  const reloadSoon = debounce(() => void load(true), STATS_DEBOUNCE_MS)
  if (getCurrentScope()) onScopeDispose(reloadSoon.cancel)
  useServerEvent('task', () => reloadSoon())
  useServerEvent('tasks', () => reloadSoon())
  useServerEvent('resync', () => reloadSoon())

  function statusLabel(status: string): string {
    const key = `task.statuses.${status}`
    return te(key) ? t(key) : status
  }

  const statuses = computed(() => statusesOf(stats.value))
  const totalTasks = computed(() => sum(stats.value?.by_status ?? {}))

  const statusCards = computed(() =>
    statuses.value.map((status) => ({
      status,
      label: statusLabel(status),
      count: stats.value?.by_status[status] ?? 0,
    })),
  )

  function breakdown(kind: Breakdown): BreakdownRow[] {
    const source = stats.value?.[kind] ?? {}
    return Object.entries(source)
      .map(([key, counts]) => ({
        key,
        name: kind === 'by_service' ? services.nameOf(key) : key,
        counts,
        total: sum(counts),
      }))
      .sort((first, second) => second.total - first.total || (first.key < second.key ? -1 : 1))
  }

  const byGroup = computed(() => breakdown('by_group'))
  const byUser = computed(() => breakdown('by_user'))
  const byService = computed(() => breakdown('by_service'))

  const finishedOption = computed<ChartOption>(() => {
    const days = stats.value?.finished_per_day ?? []
    return {
      grid: { left: 40, right: 16, top: 16, bottom: 32 },
      tooltip: { trigger: 'axis' },
      xAxis: { type: 'category', data: days.map((day) => day.date.slice(5)), axisTick: { alignWithLabel: true } },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: t('overview.finishedSeries'),
          data: days.map((day) => day.count),
          itemStyle: { color: STATUS_COLOURS.finish },
        },
      ],
    }
  })

  const statusOption = computed<ChartOption>(() => ({
    tooltip: { trigger: 'item', formatter: '{b}: {c} ({d}%)' },
    // A plain legend wraps onto a second line, so every status stays visible in the longer English names.
    legend: { bottom: 0 },
    series: [
      {
        type: 'pie',
        name: t('overview.statusSeries'),
        radius: ['40%', '68%'],
        center: ['50%', '42%'],
        label: { show: false },
        data: statusCards.value
          .filter((card) => card.count > 0)
          .map((card) => ({
            name: card.label,
            value: card.count,
            ...(STATUS_COLOURS[card.status] ? { itemStyle: { color: STATUS_COLOURS[card.status] } } : {}),
          })),
      },
    ],
  }))

  onMounted(() => {
    void load()
    // Names for the per-service table; the URLs show until they arrive.
    services.load().catch(showError)
  })

  return {
    stats,
    loading,
    error,
    statuses,
    totalTasks,
    statusCards,
    byGroup,
    byUser,
    byService,
    finishedOption,
    statusOption,
    statusLabel,
    load,
  }
}

export type Overview = ReturnType<typeof useOverview>
