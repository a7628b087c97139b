import { computed, reactive, ref, shallowRef } from 'vue'
import { ApiError } from '@/api/errors'
import { bulkAssign, type BulkAssignItem, type BulkAssignResult } from '@/api/tasks'
import { errorText } from '@/utils/notify'
import { chunkPlan, chunkRequest, previewRequest, type AssignTarget, type TaskSelection } from './plan'

/** The end of carrying out a plan. */
export interface AssignOutcome {
  assigned: number
  /** Tasks the server refused while carrying out, with the reason. */
  failed: BulkAssignItem[]
  /** True when the user stopped before every request was sent. */
  stopped: boolean
}

function failedItem(taskId: string, error: unknown): BulkAssignItem {
  const body = error instanceof ApiError ? error.body : null
  return { task_id: taskId, user: '', ok: false, errid: body?.errid ?? null, errmsg: errorText(error), detail: body?.detail ?? null }
}

/**
 * Preview a bulk assignment with a dry run, then carry the previewed plan out in chunks: one request per
 * assignee with at most CHUNK_SIZE task ids, so that the progress bar moves and one failed request costs
 * only its chunk.
 */
export function useBulkAssign() {
  const preview = shallowRef<BulkAssignResult | null>(null)
  // The target the preview was made for; carrying out uses it, not later edits of the form.
  const previewTarget = ref<AssignTarget | null>(null)
  // JSON of the preview's request, so that the page can tell when the form no longer matches it.
  const previewKey = ref('')
  const previewing = ref(false)
  const running = ref(false)
  const progress = reactive({ done: 0, total: 0 })
  const outcome = shallowRef<AssignOutcome | null>(null)
  let stopRequested = false

  const failures = computed(() => preview.value?.items.filter((item) => !item.ok) ?? [])
  const percent = computed(() => (progress.total === 0 ? 0 : Math.round((progress.done / progress.total) * 100)))

  /** Return the key that identifies a preview request, to compare with previewKey. */
  function keyOf(selection: TaskSelection, target: AssignTarget): string {
    return JSON.stringify(previewRequest(selection, target))
  }

  /** Ask the server for the plan; throws the request's error for the page to show. */
  async function runPreview(selection: TaskSelection, target: AssignTarget): Promise<void> {
    if (previewing.value || running.value) return
    previewing.value = true
    outcome.value = null
    try {
      const request = previewRequest(selection, target)
      preview.value = await bulkAssign(request)
      previewTarget.value = { ...target }
      previewKey.value = JSON.stringify(request)
    } finally {
      previewing.value = false
    }
  }

  /** Carry out the previewed plan; resolves with the outcome, which also stays in `outcome`. */
  async function execute(): Promise<AssignOutcome | null> {
    const plan = preview.value
    const target = previewTarget.value
    if (!plan || !target || running.value) return null

    const chunks = chunkPlan(plan.items)
    running.value = true
    stopRequested = false
    progress.done = 0
    progress.total = chunks.reduce((sum, chunk) => sum + chunk.taskIds.length, 0)
    const result: AssignOutcome = { assigned: 0, failed: [], stopped: false }
    try {
      for (const chunk of chunks) {
        if (stopRequested) {
          result.stopped = true
          break
        }
        try {
          const answer = await bulkAssign(chunkRequest(chunk, target))
          result.assigned += answer.ok
          result.failed.push(...answer.items.filter((item) => !item.ok))
        } catch (error) {
          result.failed.push(...chunk.taskIds.map((taskId) => failedItem(taskId, error)))
          // Without a session every later request fails the same way.
          if (error instanceof ApiError && error.isNotLoggedIn) {
            result.stopped = true
            break
          }
        }
        progress.done += chunk.taskIds.length
      }
    } finally {
      running.value = false
      // The plan is spent: a second run would reassign what this one did.
      preview.value = null
      previewKey.value = ''
      outcome.value = result
    }
    return result
  }

  /** Stop after the request in flight. */
  function stop(): void {
    stopRequested = true
  }

  function clear(): void {
    preview.value = null
    previewKey.value = ''
    outcome.value = null
  }

  return { preview, previewKey, previewing, running, progress, percent, outcome, failures, keyOf, runPreview, execute, stop, clear }
}

export type BulkAssign = ReturnType<typeof useBulkAssign>
