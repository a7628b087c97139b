import type { FormInstance, FormRules } from 'element-plus'
import { computed, reactive, ref, useTemplateRef } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'
import { homeFor } from '@/router'
import { useSessionStore } from '@/stores/session'
import { showError, showSuccess } from '@/utils/notify'

/** Return `value` when it is a path on this site, so that ?redirect= cannot send the user to another site. */
export function localRedirect(value: unknown): string | null {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || value.startsWith('/\\')) {
    return null
  }
  return value
}

export function useLogin() {
  const session = useSessionStore()
  const router = useRouter()
  const route = useRoute()
  const { t } = useI18n()

  const formRef = useTemplateRef<FormInstance>('loginForm')
  const form = reactive({ username: '', password: '' })
  const submitting = ref(false)

  // Computed, so that validation messages follow the language switch.
  const rules = computed<FormRules>(() => ({
    username: [{ type: 'string', required: true, whitespace: true, message: t('login.usernameRequired'), trigger: 'blur' }],
    password: [{ required: true, message: t('login.passwordRequired'), trigger: 'blur' }],
  }))

  async function submit(): Promise<void> {
    if (submitting.value) return
    const valid = await formRef.value?.validate().catch(() => false)
    if (formRef.value && !valid) return

    submitting.value = true
    try {
      const user = await session.login(form.username.trim(), form.password)
      form.password = ''
      showSuccess(t('login.welcome', { name: user.display_name || user.username }))
      await router.replace(localRedirect(route.query.redirect) ?? homeFor(session))
    } catch (error) {
      showError(error)
    } finally {
      submitting.value = false
    }
  }

  return { form, rules, submitting, submit }
}
