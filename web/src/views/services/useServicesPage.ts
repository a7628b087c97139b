import { computed, getCurrentScope, onMounted, onScopeDispose, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import {
  exportServicesUrl,
  listServices,
  type Service,
  type ServiceListQuery,
  type ServiceState,
  type StateCounts,
} from '@/api/services'
import { useEvents, useServerEvent } from '@/stores/events'
import { debounce } from '@/utils/debounce'
import { useServerClock } from './useServerClock'

export const SERVICE_PAGE_SIZES = [20, 50, 100, 200] as const
export const DEFAULT_SERVICE_PAGE_SIZE = 50
// Liveness changes every second, but the list only reloads this often unless an event names what changed.
export const RELOAD_INTERVAL_MS = 10_000
// State changes come in bursts when many services fall silent together: reload once after the burst.
export const EVENT_DEBOUNCE_MS = 1_000

export interface ServiceFilters {
  /** '' shows every state. */
  state: ServiceState | ''
  /** Part of the URL, name or type. */
  text: string
}

function emptyCounts(): StateCounts {
  return { online: 0, suspect: 0, offline: 0, unknown: 0 }
}

/**
 * Provide the task service page: services by state with offset paging, heartbeat ages that count up
 * every second, why TaskDash is blind when it is, reloads on service events and every 10 seconds, and
 * the link to the server's CSV export of the services that the applied filters select.
 */
export function useServicesPage() {
  const { t } = useI18n()
  const events = useEvents()
  const clock = useServerClock()

  const filters = reactive<ServiceFilters>({ state: '', text: '' })
  const applied = ref<ServiceFilters>({ state: '', text: '' })
  const page = ref(1)
  const pageSize = ref(DEFAULT_SERVICE_PAGE_SIZE)

  const rows = shallowRef<Service[]>([])
  const total = ref(0)
  const counts = ref<StateCounts>(emptyCounts())
  const blindReason = ref<string | null>(null)
  const blindSince = ref<number | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  // Bumped after each load, so that open timelines reload with the list.
  const reloads = ref(0)
  let loadSequence = 0
  let inFlight = false

  const allCount = computed(() => Object.values(counts.value).reduce((sum, count) => sum + count, 0))

  function query(limit: number, offset: number): ServiceListQuery {
    const chosen: ServiceListQuery = { limit, offset }
    if (applied.value.state) chosen.state = applied.value.state
    if (applied.value.text.trim()) chosen.text = applied.value.text.trim()
    return chosen
  }

  const exportUrl = computed(() =>
    exportServicesUrl({ state: applied.value.state || undefined, text: applied.value.text.trim() }),
  )

  /** Load the current page. `quiet` keeps the rows on screen, for reloads by timer or event. */
  async function load(quiet = false): Promise<void> {
    const sequence = ++loadSequence
    const reportBlind = events.blindReporter()
    if (!quiet) loading.value = true
    inFlight = true
    try {
      const list = await listServices(query(pageSize.value, (page.value - 1) * pageSize.value))
      if (sequence !== loadSequence) return

      // Services can leave a later page (a filter by state): show the last page that has any.
      const lastPage = Math.max(1, Math.ceil(list.total / pageSize.value))
      if (list.services.length === 0 && page.value > lastPage) {
        page.value = lastPage
        return load(quiet)
      }
      clock.sync(list.judged_at)
      rows.value = list.services
      total.value = list.total
      counts.value = list.counts
      blindReason.value = list.blind_reason
      blindSince.value = list.blind_since
      reportBlind(list.blind_reason, list.blind_since)
      error.value = null
      reloads.value += 1
    } catch (failure) {
      if (sequence !== loadSequence) return
      error.value = failure
      if (!quiet) rows.value = []
    } finally {
      if (sequence === loadSequence) {
        loading.value = false
        inFlight = false
      }
    }
  }

  function search(): Promise<void> {
    applied.value = { ...filters }
    page.value = 1
    return load()
  }

  function setState(state: ServiceState | ''): Promise<void> {
    filters.state = state
    return search()
  }

  function reset(): Promise<void> {
    Object.assign(filters, { state: '', text: '' })
    return search()
  }

  function setPage(next: number): Promise<void> {
    page.value = next
    return load()
  }

  function setPageSize(size: number): Promise<void> {
    pageSize.value = size
    page.value = 1
    return load()
  }

  const reloadSoon = debounce(() => void load(true), EVENT_DEBOUNCE_MS)
  useServerEvent('service', () => reloadSoon())
  useServerEvent('blind', () => reloadSoon())
  useServerEvent('resync', () => reloadSoon())

  const timer = setInterval(() => {
    // A hidden tab does not need fresh rows; the next visible tick brings them.
    if (inFlight || globalThis.document?.hidden) return
    void load(true)
  }, RELOAD_INTERVAL_MS)
  if (getCurrentScope()) {
    onScopeDispose(() => {
      clearInterval(timer)
      reloadSoon.cancel()
    })
  }

  const stateOptions = computed(() =>
    (['', 'online', 'suspect', 'offline', 'unknown'] as const).map((state) => ({
      state,
      label: state ? t(`services.states.${state}`) : t('services.allStates'),
      count: state ? counts.value[state] : allCount.value,
    })),
  )

  onMounted(() => void load())

  return {
    filters,
    page,
    pageSize,
    rows,
    total,
    counts,
    allCount,
    stateOptions,
    blindReason,
    blindSince,
    loading,
    error,
    exportUrl,
    reloads,
    clock,
    load,
    search,
    setState,
    reset,
    setPage,
    setPageSize,
  }
}

export type ServicesPage = ReturnType<typeof useServicesPage>
