// Mounting of pages and components with the app's plugins: a fresh Pinia, the i18n instance and a memory router.
import { flushPromises, mount, type DOMWrapper, type VueWrapper } from '@vue/test-utils'
import { ElSelect } from 'element-plus'
import { createPinia, setActivePinia, type Pinia } from 'pinia'
import type { Component } from 'vue'
import { createMemoryHistory, type Router } from 'vue-router'
import type { Session } from '@/api/session'
import { i18n } from '@/locales'
import { createAppRouter } from '@/router'
import { useSessionStore } from '@/stores/session'
import { watchFirstNavigation } from './routers'

export function makeSession(changes: Partial<Session> = {}): Session {
  return {
    username: 'alice',
    display_name: 'Alice',
    roles: ['editor'],
    groups: ['g1'],
    csrf_token: 'csrf-alice',
    ...changes,
  }
}

export interface TestApp {
  pinia: Pinia
  router: Router
}

/** Create the plugins, logged in as `session`, or logged out when it is null. */
export function createTestApp(session: Session | null = makeSession()): TestApp {
  const pinia = createPinia()
  setActivePinia(pinia)
  i18n.global.locale.value = 'zh-CN'
  // Checked either way, so that the router guard does not ask the server.
  useSessionStore().$patch({ current: session, checked: true })
  const router = createAppRouter(createMemoryHistory())
  return { pinia, router }
}

export function mountWithApp(component: Component, app: TestApp, stubs: Record<string, Component> = {}): VueWrapper {
  // Installing the router starts its first navigation in jsdom.
  watchFirstNavigation(app.router)
  return mount(component, { attachTo: document.body, global: { plugins: [app.pinia, i18n, app.router], stubs } })
}

/**
 * Return the selector of the `data-test` button in table rows. Element Plus renders each column's cell
 * template once more, hidden and without a row, to register the column; users click the ones in the body.
 */
export function rowButton(name: string): string {
  return `.el-table__body [data-test="${name}"]`
}

/** Return the first button whose text is `text`, or throw. */
export function buttonByText(wrapper: { findAll(selector: string): DOMWrapper<Element>[] }, text: string) {
  const button = wrapper.findAll('button').find((candidate) => candidate.text() === text)
  if (!button) throw new Error(`no button with the text ${text}`)
  return button
}

/** Choose `value` in the Element Plus select with the attribute data-test="`name`", as a click on an option does. */
export async function chooseOption(wrapper: VueWrapper, name: string, value: unknown): Promise<void> {
  const select = wrapper.findAllComponents(ElSelect).find((candidate) => candidate.attributes('data-test') === name)
  if (!select) throw new Error(`no select with data-test="${name}"`)
  select.vm.$emit('update:modelValue', value)
  await flushPromises()
}
