import { ref, shallowRef } from 'vue'
import { getTask, type TaskDetail } from '@/api/tasks'
import { useServerEvent } from '@/stores/events'

/** Load one task with its history for the drawer, again when the task changes while the drawer is open. */
export function useTaskHistory() {
  const visible = ref(false)
  const taskId = ref('')
  const detail = shallowRef<TaskDetail | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  let loadSequence = 0

  async function load(): Promise<void> {
    const sequence = ++loadSequence
    loading.value = true
    error.value = null
    try {
      const loaded = await getTask(taskId.value)
      if (sequence === loadSequence) detail.value = loaded
    } catch (failure) {
      if (sequence === loadSequence) error.value = failure
    } finally {
      if (sequence === loadSequence) loading.value = false
    }
  }

  function open(id: string): Promise<void> {
    taskId.value = id
    detail.value = null
    visible.value = true
    return load()
  }

  useServerEvent('task', (event) => {
    if (visible.value && event.task_id === taskId.value && (detail.value?.task.version ?? 0) < event.version) {
      void load()
    }
  })

  return { visible, taskId, detail, loading, error, open, load }
}

export type TaskHistory = ReturnType<typeof useTaskHistory>
