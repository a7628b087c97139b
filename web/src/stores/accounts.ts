import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { listGroups, listUsers, type Account, type Groups } from '@/api/users'

// Accounts change rarely: pickers reuse one read for this long; the admin pages reload after each change.
const MAX_AGE_MS = 60_000

/**
 * Users and groups, as admins see them (GET /api/v1/users and /groups return 403 to everyone else).
 * The assign page's pickers and the admin pages share them.
 */
export const useAccountsStore = defineStore('accounts', () => {
  const users = ref<Account[]>([])
  const groups = ref<Groups>({})
  const loadedAt = ref(0)
  let pending: Promise<void> | null = null

  const groupNames = computed(() => Object.keys(groups.value).sort())
  /** Enabled users who may be given tasks to work on. */
  const editors = computed(() => users.value.filter((user) => !user.disabled && user.roles.includes('editor')))
  /** Enabled users who may check tasks. */
  const checkers = computed(() => users.value.filter((user) => !user.disabled && user.roles.includes('checker')))

  async function load(force = false): Promise<void> {
    if (!force && Date.now() - loadedAt.value < MAX_AGE_MS) return
    pending ??= Promise.all([listUsers(), listGroups()])
      .then(([loadedUsers, loadedGroups]) => {
        users.value = loadedUsers
        groups.value = loadedGroups
        loadedAt.value = Date.now()
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  /** Put a created or changed user into the list, and reload the groups, which follow from memberships. */
  async function saved(user: Account): Promise<void> {
    const others = users.value.filter((existing) => existing.username !== user.username)
    // Code-point order, as the server sorts.
    users.value = [...others, user].sort((first, second) => (first.username < second.username ? -1 : 1))
    groups.value = await listGroups()
  }

  return { users, groups, groupNames, editors, checkers, load, saved }
})
