import { computed, onMounted, ref } from 'vue'
import { exportGroupsUrl } from '@/api/users'
import { useAccountsStore } from '@/stores/accounts'

export interface GroupRow {
  name: string
  members: string[]
  /** Enabled members with the editor role: those round-robin assignment gives tasks to. */
  editors: string[]
  managers: string[]
}

/** Provide the group page: every group with its members; groups exist while they have a member. */
export function useGroupsAdmin() {
  const accounts = useAccountsStore()
  const text = ref('')
  const loading = ref(false)
  const error = ref<unknown>(null)

  const rows = computed<GroupRow[]>(() => {
    const byName = new Map(accounts.users.map((user) => [user.username, user]))
    const needle = text.value.trim().toLowerCase()
    return accounts.groupNames
      .map((name) => {
        const members = [...(accounts.groups[name] ?? [])].sort()
        const holding = (role: string) =>
          members.filter((member) => {
            const user = byName.get(member)
            return user !== undefined && !user.disabled && user.roles.includes(role)
          })
        return { name, members, editors: holding('editor'), managers: holding('manager') }
      })
      .filter((row) => !needle || row.name.toLowerCase().includes(needle) || row.members.some((member) => member.toLowerCase().includes(needle)))
  })
  // The server's export filters by group name and member as the rows above do.
  const exportUrl = computed(() => exportGroupsUrl(text.value.trim()))

  async function load(): Promise<void> {
    loading.value = true
    try {
      await accounts.load(true)
      error.value = null
    } catch (failure) {
      error.value = failure
    } finally {
      loading.value = false
    }
  }

  onMounted(() => void load())

  return { text, rows, exportUrl, loading, error, load }
}
