import { computed, onMounted } from 'vue'
import { useI18n } from 'vue-i18n'
import { useRoute, useRouter } from 'vue-router'
import { menuRoutes } from '@/router'
import { useEvents } from '@/stores/events'
import { useSessionStore, type Role } from '@/stores/session'
import { blindReasonLabel } from '@/utils/blind'
import { showError, showSuccess } from '@/utils/notify'

export interface MenuItem {
  name: string
  path: string
  title: string
}

/** Provide the shell around every page after login: the menu by role, the user, live-update state and logout. */
export function useAppLayout() {
  const session = useSessionStore()
  const events = useEvents()
  const router = useRouter()
  const route = useRoute()
  const { t } = useI18n()

  const menu = computed<MenuItem[]>(() =>
    menuRoutes()
      .filter((item) => !item.meta?.roles || session.hasRole(...item.meta.roles))
      .map((item) => ({ name: String(item.name), path: `/${item.path}`, title: item.meta?.title ?? '' })),
  )

  // Pages under a menu entry (the admin tabs) keep that entry highlighted.
  const activePath = computed(
    () => menu.value.find((item) => route.path === item.path || route.path.startsWith(`${item.path}/`))?.path ?? route.path,
  )

  const roleNames = computed(() =>
    (session.current?.roles ?? []).map((role) => t(`session.roles.${role as Role}`)).join(' · '),
  )

  // The service page explains blindness at length, so the short banner would only repeat it there.
  const blindMessage = computed(() =>
    events.blindReason === null || route.name === 'services'
      ? ''
      : t('events.blind', { reason: blindReasonLabel(events.blindReason) }),
  )

  async function logout(): Promise<void> {
    events.stop()
    try {
      await session.logout()
      showSuccess(t('session.loggedOut'))
    } catch (error) {
      showError(error)
    }
    await router.replace({ name: 'login' })
  }

  onMounted(() => events.start())

  return { session, events, menu, activePath, roleNames, blindMessage, logout }
}
