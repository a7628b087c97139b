import { computed, onMounted, ref } from 'vue'
import { useAccountsStore } from '@/stores/accounts'
import { downloadCsv, toCsv } from '@/utils/csv'

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

  function exportCsv(): void {
    const lines = rows.value.map((row) => [row.name, row.members.length, row.members.join(' '), row.editors.join(' '), row.managers.join(' ')])
    downloadCsv('groups.csv', toCsv(['group', 'member_count', 'members', 'editors', 'managers'], lines))
  }

  onMounted(() => void load())

  return { text, rows, loading, error, load, exportCsv }
}
