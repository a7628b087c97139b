import { computed, onMounted, ref } from 'vue'
import type { Account } from '@/api/users'
import { useAccountsStore } from '@/stores/accounts'
import { useSessionStore } from '@/stores/session'

/**
 * Provide the people and groups that the assign page offers. Admins pick from every user and group. Managers
 * cannot list users (GET /api/v1/users is for admins), so they type usernames, and pick from the groups
 * of their own session, which are the only groups they may assign within.
 */
export function useAssignees() {
  const session = useSessionStore()
  const accounts = useAccountsStore()
  const canListUsers = computed(() => session.hasRole('admin'))
  const loadError = ref<unknown>(null)

  const groupNames = computed<string[]>(() =>
    canListUsers.value ? accounts.groupNames : [...(session.current?.groups ?? [])].sort(),
  )
  /** Enabled editors, or null when the user types names instead. */
  const editors = computed<Account[] | null>(() => (canListUsers.value ? accounts.editors : null))
  /** Enabled checkers, or null when the user types names instead. */
  const checkers = computed<Account[] | null>(() => (canListUsers.value ? accounts.checkers : null))

  async function load(force = false): Promise<void> {
    if (!canListUsers.value) return
    try {
      await accounts.load(force)
      loadError.value = null
    } catch (error) {
      loadError.value = error
    }
  }

  onMounted(() => void load())

  return { canListUsers, groupNames, editors, checkers, loadError, load }
}

export type Assignees = ReturnType<typeof useAssignees>
