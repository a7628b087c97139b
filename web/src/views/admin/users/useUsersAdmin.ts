import { ElMessageBox } from 'element-plus'
import { computed, onMounted, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { exportUsersUrl, updateUser, type Account, type Role } from '@/api/users'
import { useAccountsStore } from '@/stores/accounts'
import { useSessionStore } from '@/stores/session'
import { showError, showSuccess } from '@/utils/notify'
import { usePasswordReset } from './usePasswordReset'
import { useUserForm } from './useUserForm'

export interface UserFilters {
  /** Part of the username, display name or a group name. */
  text: string
  /** '' shows every role. */
  role: Role | ''
}

// The server's export filters the same way, so that the CSV contains the rows on screen.
function matches(user: Account, filters: UserFilters): boolean {
  const needle = filters.text.trim().toLowerCase()
  if (filters.role && !user.roles.includes(filters.role)) return false
  if (!needle) return true
  return [user.username, user.display_name, ...user.groups].some((value) => value.toLowerCase().includes(needle))
}

/** Provide the user administration page: the users, filtered in the browser, and every change an admin makes. */
export function useUsersAdmin() {
  const { t } = useI18n()
  const accounts = useAccountsStore()
  const session = useSessionStore()

  const filters = reactive<UserFilters>({ text: '', role: '' })
  const loading = ref(false)
  const error = ref<unknown>(null)
  // Username whose enable or disable is in flight.
  const acting = ref<string | null>(null)

  const form = useUserForm(() => session.username)
  const password = usePasswordReset()

  const rows = computed(() => accounts.users.filter((user) => matches(user, filters)))
  const exportUrl = computed(() => exportUsersUrl({ text: filters.text.trim(), role: filters.role || undefined }))

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

  function isSelf(user: Account): boolean {
    return user.username === session.username
  }

  async function setDisabled(user: Account, disabled: boolean): Promise<void> {
    if (acting.value !== null) return
    if (disabled) {
      try {
        await ElMessageBox.confirm(t('admin.users.disableConfirm', { name: user.username }), t('admin.users.disable'), {
          type: 'warning',
          confirmButtonText: t('admin.users.disable'),
          cancelButtonText: t('common.cancel'),
        })
      } catch {
        return // Cancelled.
      }
    }
    acting.value = user.username
    try {
      await accounts.saved(await updateUser(user.username, { disabled }))
      showSuccess(t(disabled ? 'admin.users.disabled' : 'admin.users.enabled', { name: user.username }))
    } catch (failure) {
      showError(failure)
    } finally {
      acting.value = null
    }
  }

  onMounted(() => void load())

  return { accounts, filters, rows, exportUrl, loading, error, acting, form, password, isSelf, load, setDisabled }
}
