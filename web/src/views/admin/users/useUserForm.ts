import type { FormItemRule, FormRules } from 'element-plus'
import { computed, reactive, ref } from 'vue'
import { useI18n } from 'vue-i18n'
import {
  MAX_DISPLAY_NAME_LENGTH,
  MAX_PASSWORD_LENGTH,
  MIN_PASSWORD_LENGTH,
  NAME_PATTERN,
  createUser,
  updateUser,
  type Account,
  type AccountChanges,
  type Role,
} from '@/api/users'
import { useAccountsStore } from '@/stores/accounts'
import { showError, showSuccess } from '@/utils/notify'

export interface UserFormFields {
  username: string
  display_name: string
  password: string
  confirm: string
  roles: Role[]
  groups: string[]
}

function emptyFields(): UserFormFields {
  return { username: '', display_name: '', password: '', confirm: '', roles: ['editor'], groups: [] }
}

function sameItems(first: readonly string[], second: readonly string[]): boolean {
  return first.length === second.length && [...first].sort().join('\n') === [...second].sort().join('\n')
}

/** Return the fields of `fields` that differ from `user`, for PATCH /api/v1/users/{username}. */
export function changedFields(user: Account, fields: UserFormFields): AccountChanges {
  const changes: AccountChanges = {}
  if (fields.display_name.trim() !== user.display_name) changes.display_name = fields.display_name.trim()
  if (!sameItems(fields.roles, user.roles)) changes.roles = [...fields.roles]
  if (!sameItems(fields.groups, user.groups)) changes.groups = [...fields.groups]
  return changes
}

/** Return validation rules for a new password and its repetition, in the UI language. */
export function passwordRules(
  t: (key: string, values?: Record<string, unknown>) => string,
  fields: { password: string },
): Record<'password' | 'confirm', FormItemRule[]> {
  return {
    password: [
      { required: true, message: t('admin.users.passwordRequired'), trigger: 'blur' },
      {
        min: MIN_PASSWORD_LENGTH,
        max: MAX_PASSWORD_LENGTH,
        message: t('admin.users.passwordLength', { min: MIN_PASSWORD_LENGTH, max: MAX_PASSWORD_LENGTH }),
        trigger: 'blur',
      },
    ],
    confirm: [
      {
        validator: (_rule, value: string, callback) =>
          value === fields.password ? callback() : callback(new Error(t('admin.users.passwordMismatch'))),
        trigger: 'blur',
      },
    ],
  }
}

/** Provide the dialog that creates a user or changes one's display name, roles and groups. The dialog component validates before save(). */
export function useUserForm(currentUsername: () => string) {
  const { t } = useI18n()
  const accounts = useAccountsStore()

  const visible = ref(false)
  const editing = ref<Account | null>(null)
  const saving = ref(false)
  const fields = reactive<UserFormFields>(emptyFields())

  const isSelf = computed(() => editing.value !== null && editing.value.username === currentUsername())

  const rules = computed<FormRules>(() => {
    const nameRules: FormItemRule[] = [
      { required: true, message: t('admin.users.usernameRequired'), trigger: 'blur' },
      { pattern: NAME_PATTERN, message: t('admin.users.nameInvalid'), trigger: 'blur' },
    ]
    const groupRule: FormItemRule = {
      validator: (_rule, value: string[], callback) =>
        value.every((group) => NAME_PATTERN.test(group))
          ? callback()
          : callback(new Error(t('admin.users.groupInvalid'))),
      trigger: 'change',
    }
    return {
      ...(editing.value === null ? { username: nameRules, ...passwordRules(t, fields) } : {}),
      display_name: [
        { max: MAX_DISPLAY_NAME_LENGTH, message: t('admin.users.displayNameTooLong', { max: MAX_DISPLAY_NAME_LENGTH }) },
      ],
      roles: [{ type: 'array', required: true, min: 1, message: t('admin.users.rolesRequired'), trigger: 'change' }],
      groups: [groupRule],
    }
  })

  function openCreate(): void {
    editing.value = null
    Object.assign(fields, emptyFields())
    visible.value = true
  }

  function openEdit(user: Account): void {
    editing.value = user
    Object.assign(fields, {
      ...emptyFields(),
      username: user.username,
      display_name: user.display_name,
      roles: [...user.roles] as Role[],
      groups: [...user.groups],
    })
    visible.value = true
  }

  async function save(): Promise<void> {
    if (saving.value) return
    saving.value = true
    try {
      const user = editing.value
      if (user === null) {
        const created = await createUser({
          username: fields.username.trim(),
          password: fields.password,
          roles: [...fields.roles],
          groups: [...fields.groups],
          display_name: fields.display_name.trim(),
        })
        await accounts.saved(created)
        showSuccess(t('admin.users.created', { name: created.username }))
      } else {
        const changes = changedFields(user, fields)
        if (Object.keys(changes).length > 0) await accounts.saved(await updateUser(user.username, changes))
        showSuccess(t('admin.users.updated', { name: user.username }))
      }
      fields.password = ''
      fields.confirm = ''
      visible.value = false
    } catch (error) {
      showError(error)
    } finally {
      saving.value = false
    }
  }

  return { visible, editing, isSelf, fields, rules, saving, openCreate, openEdit, save }
}

export type UserForm = ReturnType<typeof useUserForm>
