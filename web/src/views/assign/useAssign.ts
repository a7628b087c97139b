import { computed, onMounted, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { MAX_BULK_TASKS, type BulkFilter, type Task } from '@/api/tasks'
import { downloadCsv, toCsv } from '@/utils/csv'
import { showError, showSuccess, showWarning } from '@/utils/notify'
import { useTaskList } from '../tasks/useTaskList'
import { emptyTarget, targetProblem, type AssignTarget, type TaskSelection } from './plan'
import { useAssignees } from './useAssignees'
import { useBulkAssign } from './useBulkAssign'
import { useTaskAssignDialog } from './useTaskAssignDialog'

/** Statuses the page lists: the server assigns only unclaimed tasks and tasks in progress. '' lists both and more. */
export const ASSIGN_STATUSES = ['notget', 'running', ''] as const
export const DEFAULT_BULK_LIMIT = 100

export type SelectionKind = 'filter' | 'ids'

/**
 * Provide the assign page: tasks chosen by filter or by selection in the table, assigned to one user or
 * round-robin over a group after a preview, and single tasks assigned or given a checker from the table.
 */
export function useAssign() {
  const { t } = useI18n()

  const list = useTaskList({
    fixedFilter: () => ({}),
    initialFilters: { status: 'notget' },
    // A task that enters or leaves the listed status may belong on the page.
    isRelevant: (event) => {
      const status = list.applied.value.status
      return !status || event.status === status || event.previous_status === status
    },
  })
  const assignees = useAssignees()
  const bulk = useBulkAssign()
  const single = useTaskAssignDialog(() => void list.load(true))

  const selectionKind = ref<SelectionKind>('filter')
  const selected = shallowRef<Task[]>([])
  const limit = ref(DEFAULT_BULK_LIMIT)
  const target = reactive<AssignTarget>(emptyTarget())
  // Bumped to make the table forget its selection.
  const selectionResets = ref(0)

  function bulkFilter(): BulkFilter {
    const applied = list.applied.value
    return {
      status: applied.status.trim(),
      data_type: applied.data_type.trim(),
      service_url: applied.service_url,
      text: applied.text.trim(),
      group_id: applied.group_id.trim(),
      user: '',
      checker: '',
    }
  }

  function selection(): TaskSelection {
    return selectionKind.value === 'filter'
      ? { kind: 'filter', filter: bulkFilter(), limit: limit.value }
      : { kind: 'ids', taskIds: selected.value.map((task) => task.task_id) }
  }

  /** How many tasks the request would take, before the server checks them. */
  const chosenCount = computed(() =>
    selectionKind.value === 'filter' ? Math.min(limit.value, list.total.value) : selected.value.length,
  )

  /** The i18n key of what stops a preview, or null. */
  const problem = computed(() => {
    if (selectionKind.value === 'ids' && selected.value.length === 0) return 'assign.problems.nothingSelected'
    if (selectionKind.value === 'ids' && selected.value.length > MAX_BULK_TASKS) return 'assign.problems.tooManySelected'
    if (selectionKind.value === 'filter' && list.total.value === 0) return 'assign.problems.noMatches'
    return targetProblem(target)
  })

  /** True while the preview shown was made from the current form. */
  const previewFresh = computed(() => bulk.preview.value !== null && bulk.previewKey.value === bulk.keyOf(selection(), target))

  function setSelection(rows: Task[]): void {
    selected.value = rows
  }

  async function preview(): Promise<void> {
    if (problem.value !== null) {
      showWarning(t(problem.value, { max: MAX_BULK_TASKS }))
      return
    }
    try {
      await bulk.runPreview(selection(), target)
    } catch (error) {
      showError(error)
    }
  }

  async function execute(): Promise<void> {
    if (!previewFresh.value) return
    const outcome = await bulk.execute()
    if (outcome === null) return
    if (outcome.failed.length === 0 && !outcome.stopped) showSuccess(t('assign.result.allDone', { count: outcome.assigned }))
    selected.value = []
    selectionResets.value += 1
    await list.load(true)
  }

  function exportPlanCsv(): void {
    const plan = bulk.preview.value
    if (!plan) return
    const lines = plan.items.map((item) => [item.task_id, item.ok ? item.user : '', item.ok, item.errid, item.errmsg, item.detail])
    downloadCsv('assignment-plan.csv', toCsv(['task_id', 'user', 'ok', 'errid', 'errmsg', 'detail'], lines))
  }

  onMounted(() => void list.load())

  return {
    list,
    assignees,
    bulk,
    single,
    selectionKind,
    selected,
    limit,
    target,
    selectionResets,
    chosenCount,
    problem,
    previewFresh,
    setSelection,
    preview,
    execute,
    exportPlanCsv,
  }
}
