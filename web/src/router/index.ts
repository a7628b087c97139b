import {
  createRouter,
  createWebHistory,
  type RouteLocationNormalized,
  type RouteLocationRaw,
  type RouteRecordRaw,
  type Router,
  type RouterHistory,
} from 'vue-router'
import { i18n } from '@/locales'
import { useSessionStore } from '@/stores/session'
import { showError } from '@/utils/notify'
import { routes } from './routes'

/** Return the child routes of the app shell that appear in the menu, in order. */
export function menuRoutes(): RouteRecordRaw[] {
  const shell = routes.find((route) => route.path === '/')
  return (shell?.children ?? []).filter((route) => route.meta?.menu)
}

/** Return the first menu page that the logged-in user may open, or the not-found page when none. */
export function homeFor(session: ReturnType<typeof useSessionStore>): RouteLocationRaw {
  const first = menuRoutes().find((route) => !route.meta?.roles || session.hasRole(...route.meta.roles))
  return first?.name ? { name: first.name } : { name: 'not-found', params: { pathMatch: ['home'] } }
}

export function pageTitle(route: RouteLocationNormalized): string {
  const t = i18n.global.t
  // Before the first navigation ends, the route has no meta yet, and t(undefined) throws.
  if (!route.meta.title) return t('app.titleSuffix')
  return `${t(route.meta.title)} · ${t('app.titleSuffix')}`
}

async function checkSession(session: ReturnType<typeof useSessionStore>): Promise<boolean> {
  try {
    return (await session.ensureChecked()) !== null
  } catch (error) {
    // The server is unreachable or failing: the login page is the one page that still works.
    showError(error)
    return false
  }
}

/** Send visitors without a session to the login page, and users to a page their roles allow. */
export async function guard(to: RouteLocationNormalized): Promise<RouteLocationRaw | true> {
  const session = useSessionStore()
  if (to.meta.public) {
    if (to.name === 'login' && (await checkSession(session))) return homeFor(session)
    return true
  }
  if (!(await checkSession(session))) {
    return { name: 'login', query: to.fullPath === '/' ? {} : { redirect: to.fullPath } }
  }
  const roles = to.meta.roles
  if (roles && !session.hasRole(...roles)) return homeFor(session)
  return true
}

export function createAppRouter(history: RouterHistory = createWebHistory('/')): Router {
  const router = createRouter({ history, routes })
  router.beforeEach(guard)
  return router
}
