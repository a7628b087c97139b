import { computed, onMounted, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { ApiError, ErrId } from '@/api/errors'
import { claimNextTask, claimTask, type Task } from '@/api/tasks'
import { useSessionStore } from '@/stores/session'
import { showError, showSuccess } from '@/utils/notify'
import { useTaskList } from '../useTaskList'

/** Provide the task hall: unclaimed tasks, claimed one at a time or "next" by filter. */
export function useTaskHall() {
  const session = useSessionStore()
  const { t } = useI18n()

  const list = useTaskList({
    fixedFilter: () => ({ status: 'notget' }),
    // A task that becomes unclaimed (released, new from a poll) may belong on this page.
    isRelevant: (event) => event.status === 'notget',
  })

  const canClaim = computed(() => session.hasRole('editor', 'admin'))
  // Task id being claimed, or '*' during "claim next".
  const claiming = ref<string | null>(null)

  async function claimed(task: Task): Promise<void> {
    showSuccess(t('hall.claimed', { id: task.task_id }))
    await list.load(true)
  }

  async function claim(task: Task): Promise<void> {
    if (claiming.value !== null) return
    claiming.value = task.task_id
    try {
      await claimed(await claimTask(task.task_id))
    } catch (error) {
      showError(error)
      // Someone else was faster: show the list as it is now.
      if (error instanceof ApiError && error.errid === ErrId.ALREADY_CLAIMED) await list.load(true)
    } finally {
      claiming.value = null
    }
  }

  async function claimNext(): Promise<void> {
    if (claiming.value !== null) return
    claiming.value = '*'
    try {
      await claimed(
        await claimNextTask({
          data_type: list.filters.data_type.trim(),
          service_url: list.filters.service_url,
          text: list.filters.text.trim(),
        }),
      )
    } catch (error) {
      showError(error)
    } finally {
      claiming.value = null
    }
  }

  onMounted(() => void list.load())

  return { list, canClaim, claiming, claim, claimNext }
}
