import type { RouteRecordRaw } from 'vue-router'
import type { Role } from '@/stores/session'

declare module 'vue-router' {
  interface RouteMeta {
    /** i18n key of the page title, shown in the menu and the browser tab. */
    title: string
    /** Pages open to everyone, logged in or not. */
    public?: boolean
    /** Roles that may open the page; absent: every logged-in user. */
    roles?: Role[]
    /** Shown in the navigation menu. */
    menu?: boolean
  }
}

/** The tabs of the admin page: child routes of `admin`. */
export const adminTabs = [
  { name: 'admin-users', path: 'users', title: 'nav.adminUsers', component: () => import('@/views/admin/users/index.vue') },
  { name: 'admin-groups', path: 'groups', title: 'nav.adminGroups', component: () => import('@/views/admin/groups/index.vue') },
  {
    name: 'admin-dead-letters',
    path: 'dead-letters',
    title: 'nav.adminDeadLetters',
    component: () => import('@/views/admin/deadLetters/index.vue'),
  },
] as const

export const routes: RouteRecordRaw[] = [
  {
    path: '/login',
    name: 'login',
    component: () => import('@/views/login/index.vue'),
    meta: { title: 'nav.login', public: true },
  },
  {
    path: '/',
    component: () => import('@/layout/AppLayout.vue'),
    meta: { title: 'app.name' },
    children: [
      { path: '', name: 'home', redirect: { name: 'hall' }, meta: { title: 'nav.hall' } },
      {
        path: 'tasks/hall',
        name: 'hall',
        component: () => import('@/views/tasks/hall/index.vue'),
        meta: { title: 'nav.hall', roles: ['editor', 'manager', 'admin'], menu: true },
      },
      {
        path: 'tasks/mine',
        name: 'mine',
        component: () => import('@/views/tasks/mine/index.vue'),
        meta: { title: 'nav.mine', roles: ['editor', 'admin'], menu: true },
      },
      {
        path: 'tasks/review',
        name: 'review',
        component: () => import('@/views/tasks/review/index.vue'),
        meta: { title: 'nav.review', roles: ['checker', 'admin'], menu: true },
      },
      {
        path: 'tasks/assign',
        name: 'assign',
        component: () => import('@/views/assign/index.vue'),
        meta: { title: 'nav.assign', roles: ['manager', 'admin'], menu: true },
      },
      {
        path: 'overview',
        name: 'overview',
        component: () => import('@/views/overview/index.vue'),
        meta: { title: 'nav.overview', menu: true },
      },
      {
        path: 'services',
        name: 'services',
        component: () => import('@/views/services/index.vue'),
        meta: { title: 'nav.services', menu: true },
      },
      {
        path: 'admin',
        name: 'admin',
        component: () => import('@/views/admin/index.vue'),
        redirect: { name: 'admin-users' },
        meta: { title: 'nav.admin', roles: ['admin'], menu: true },
        children: adminTabs.map((tab) => ({
          path: tab.path,
          name: tab.name,
          component: tab.component,
          meta: { title: tab.title, roles: ['admin'] },
        })),
      },
      {
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/error/NotFound.vue'),
        meta: { title: 'nav.notFound' },
      },
    ],
  },
]
