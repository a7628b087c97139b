import { computed, getCurrentScope, onScopeDispose, reactive, ref, shallowRef } from 'vue'
import type { TaskEvent } from '@/api/events'
import {
  exportTasksUrl,
  listTasks,
  type SortOrder,
  type Task,
  type TaskFilter,
  type TaskSortField,
} from '@/api/tasks'
import { useServerEvent } from '@/stores/events'
import { debounce } from '@/utils/debounce'

export const PAGE_SIZES = [20, 50, 100] as const
export const DEFAULT_PAGE_SIZE = 20

// Events come in bursts (a poll, a bulk assignment): one reload after the burst is enough.
export const REFRESH_DEBOUNCE_MS = 500

/**
 * Filters that the user edits; an empty one does not filter. Fixed filters (such as status=notget in the
 * hall) come from the page and take precedence. Only the assign page edits `status` and `group_id`.
 */
export interface EditableFilters {
  data_type: string
  service_url: string
  text: string
  status: string
  group_id: string
}

export interface TaskListOptions {
  /** Filters of the page itself, such as status=notget; read on every load. */
  fixedFilter: () => TaskFilter
  /** Whether a task event may change this list, given the rows shown. */
  isRelevant: (event: TaskEvent, rows: readonly Task[]) => boolean
  pageSize?: number
  /** Filters that search() and reset() start from; default all empty. */
  initialFilters?: Partial<EditableFilters>
}

function emptyFilters(): EditableFilters {
  return { data_type: '', service_url: '', text: '', status: '', group_id: '' }
}

/**
 * A task list with keyset pagination: the server returns `next_cursor`, and the cursors of the pages
 * already seen are kept so that "previous" works too. There are no page numbers to jump to, because
 * offsets get slow over large tables. Relevant server events reload the current page, debounced.
 */
export function useTaskList(options: TaskListOptions) {
  const initialFilters = (): EditableFilters => ({ ...emptyFilters(), ...options.initialFilters })
  const filters = reactive<EditableFilters>(initialFilters())
  // The filters of the rows shown: editing the form changes nothing until search().
  const applied = ref<EditableFilters>(initialFilters())
  const sortField = ref<TaskSortField>('created_at')
  const sortOrder = ref<SortOrder>('asc')
  const pageSize = ref(options.pageSize ?? DEFAULT_PAGE_SIZE)

  const rows = shallowRef<Task[]>([])
  const total = ref(0)
  const loading = ref(false)
  const error = ref<unknown>(null)
  // cursors[i] opens page i; cursors[0] is null, the first page.
  const cursors = ref<(string | null)[]>([null])
  const nextCursor = ref<string | null>(null)
  let loadSequence = 0

  const pageIndex = computed(() => cursors.value.length - 1)
  const pageCount = computed(() => Math.max(1, Math.ceil(total.value / pageSize.value)))
  const hasPrevious = computed(() => pageIndex.value > 0)
  const hasNext = computed(() => nextCursor.value !== null)

  function filter(): TaskFilter {
    const chosen: TaskFilter = { sort: sortField.value, order: sortOrder.value }
    for (const [key, value] of Object.entries(applied.value) as [keyof EditableFilters, string][]) {
      if (value.trim()) chosen[key] = value.trim()
    }
    return { ...chosen, ...options.fixedFilter() }
  }

  const exportUrl = computed(() => exportTasksUrl(filter()))

  /** Load the current page. `quiet` keeps the rows on screen, for reloads caused by events. */
  async function load(quiet = false): Promise<void> {
    const sequence = ++loadSequence
    if (!quiet) loading.value = true
    try {
      const cursor = cursors.value[pageIndex.value]
      const page = await listTasks({ ...filter(), limit: pageSize.value, ...(cursor ? { cursor } : {}) })
      if (sequence !== loadSequence) return

      // The tasks of a later page can all leave the list (claimed by others): show the page before it.
      if (page.tasks.length === 0 && pageIndex.value > 0) {
        cursors.value = cursors.value.slice(0, -1)
        return load(quiet)
      }
      rows.value = page.tasks
      total.value = page.total
      nextCursor.value = page.next_cursor
      error.value = null
    } catch (failure) {
      if (sequence !== loadSequence) return
      error.value = failure
      if (!quiet) rows.value = []
    } finally {
      if (sequence === loadSequence) loading.value = false
    }
  }

  function firstPage(): Promise<void> {
    cursors.value = [null]
    nextCursor.value = null
    return load()
  }

  function search(): Promise<void> {
    applied.value = { ...filters }
    return firstPage()
  }

  function reset(): Promise<void> {
    Object.assign(filters, initialFilters())
    return search()
  }

  function nextPage(): Promise<void> {
    if (nextCursor.value === null) return Promise.resolve()
    cursors.value = [...cursors.value, nextCursor.value]
    return load()
  }

  function previousPage(): Promise<void> {
    if (!hasPrevious.value) return Promise.resolve()
    cursors.value = cursors.value.slice(0, -1)
    return load()
  }

  function setPageSize(size: number): Promise<void> {
    pageSize.value = size
    return firstPage()
  }

  /** Sort by `field`; a null field or order (Element Plus clears the sort) goes back to creation time, oldest first. */
  function setSort(field: TaskSortField | null, order: SortOrder | null): Promise<void> {
    sortField.value = field && order ? field : 'created_at'
    sortOrder.value = field && order ? order : 'asc'
    return firstPage()
  }

  const refreshSoon = debounce(() => void load(true), REFRESH_DEBOUNCE_MS)
  if (getCurrentScope()) onScopeDispose(refreshSoon.cancel)

  function onTaskEvent(event: TaskEvent): void {
    const shown = rows.value.find((task) => task.task_id === event.task_id)
    // Our own action already reloaded the list with this version or a later one.
    if (shown && shown.version >= event.version) return
    if (shown || options.isRelevant(event, rows.value)) refreshSoon()
  }

  useServerEvent('task', onTaskEvent)
  useServerEvent('tasks', () => refreshSoon())
  useServerEvent('resync', () => refreshSoon())

  return {
    filters,
    applied,
    filter,
    sortField,
    sortOrder,
    pageSize,
    rows,
    total,
    loading,
    error,
    pageIndex,
    pageCount,
    hasPrevious,
    hasNext,
    exportUrl,
    load,
    search,
    reset,
    nextPage,
    previousPage,
    setPageSize,
    setSort,
    refreshSoon,
  }
}

export type TaskList = ReturnType<typeof useTaskList>
