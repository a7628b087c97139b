import { computed, reactive, ref, shallowRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { assignTask, setTaskChecker, type Task } from '@/api/tasks'
import { showError, showSuccess } from '@/utils/notify'

export type TaskAssignMode = 'assign' | 'checker'

/** Provide the dialog that assigns or reassigns one task, or sets its checker. `onDone` runs after a change. */
export function useTaskAssignDialog(onDone: () => void) {
  const { t } = useI18n()
  const visible = ref(false)
  const mode = ref<TaskAssignMode>('assign')
  const task = shallowRef<Task | null>(null)
  const saving = ref(false)
  const fields = reactive({ user: '', checker: '', group: '' })

  /** The i18n key of what is missing or wrong, or null when the dialog can be saved. */
  const problem = computed(() => {
    const user = fields.user.trim()
    const checker = fields.checker.trim()
    if (mode.value === 'assign' && !user) return 'assign.problems.userMissing'
    if (mode.value === 'checker' && !checker) return 'assign.problems.checkerMissing'
    const editor = mode.value === 'assign' ? user : (task.value?.user ?? '')
    if (checker && checker === editor) return 'assign.problems.checkerIsUser'
    return null
  })

  function open(target: Task, nextMode: TaskAssignMode): void {
    task.value = target
    mode.value = nextMode
    Object.assign(fields, { user: target.user, checker: target.checker, group: target.group_id })
    visible.value = true
  }

  async function save(): Promise<void> {
    const target = task.value
    if (!target || saving.value || problem.value !== null) return
    saving.value = true
    try {
      if (mode.value === 'assign') {
        const assigned = await assignTask(target.task_id, {
          user: fields.user.trim(),
          checker: fields.checker.trim(),
          group: fields.group.trim(),
        })
        showSuccess(t('assign.single.assigned', { id: assigned.task_id, user: assigned.user }))
      } else {
        const changed = await setTaskChecker(target.task_id, fields.checker.trim())
        showSuccess(t('assign.single.checkerSet', { id: changed.task_id, checker: changed.checker }))
      }
      visible.value = false
      onDone()
    } catch (error) {
      showError(error)
    } finally {
      saving.value = false
    }
  }

  return { visible, mode, task, fields, problem, saving, open, save }
}

export type TaskAssignDialog = ReturnType<typeof useTaskAssignDialog>
