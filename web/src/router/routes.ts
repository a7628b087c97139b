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
        path: ':pathMatch(.*)*',
        name: 'not-found',
        component: () => import('@/views/error/NotFound.vue'),
        meta: { title: 'nav.notFound' },
      },
    ],
  },
]
