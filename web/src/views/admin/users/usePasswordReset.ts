import type { FormRules } from 'element-plus'
import { computed, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { resetPassword, type Account } from '@/api/users'
import { showError, showSuccess } from '@/utils/notify'
import { passwordRules } from './useUserForm'

/** Provide the dialog that sets a new password, which logs the user out everywhere. The dialog component validates before save(). */
export function usePasswordReset() {
  const { t } = useI18n()

  const visible = ref(false)
  const user = ref<Account | null>(null)
  const saving = ref(false)
  const fields = reactive({ password: '', confirm: '' })
  const rules = computed<FormRules>(() => passwordRules(t, fields))

  function open(target: Account): void {
    user.value = target
    fields.password = ''
    fields.confirm = ''
    visible.value = true
  }

  async function save(): Promise<void> {
    const target = user.value
    if (!target || saving.value) return
    saving.value = true
    try {
      await resetPassword(target.username, fields.password)
      fields.password = ''
      fields.confirm = ''
      visible.value = false
      showSuccess(t('admin.users.passwordReset', { name: target.username }))
    } catch (error) {
      showError(error)
    } finally {
      saving.value = false
    }
  }

  return { visible, user, fields, rules, saving, open, save }
}

export type PasswordReset = ReturnType<typeof usePasswordReset>
