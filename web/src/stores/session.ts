import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/errors'
import * as sessionApi from '@/api/session'
import type { Session } from '@/api/session'

export type Role = 'editor' | 'checker' | 'manager' | 'admin'

/** The logged-in user and the session's CSRF token, which every write to the API must send. */
export const useSessionStore = defineStore('session', () => {
  const current = ref<Session | null>(null)
  // True once the server reported whether a session exists, so the router guard requests it only once.
  const checked = ref(false)

  const username = computed(() => current.value?.username ?? '')
  const displayName = computed(() => current.value?.display_name || current.value?.username || '')
  const csrfToken = computed(() => current.value?.csrf_token ?? null)
  const isLoggedIn = computed(() => current.value !== null)

  function hasRole(...roles: Role[]): boolean {
    const held = current.value?.roles ?? []
    return roles.some((role) => held.includes(role))
  }

  async function login(name: string, password: string): Promise<Session> {
    current.value = await sessionApi.login(name, password)
    checked.value = true
    return current.value
  }

  /** Ask the server for the current session; return null when there is none (HTTP 401). */
  async function refresh(): Promise<Session | null> {
    try {
      current.value = await sessionApi.fetchSession()
    } catch (error) {
      if (!(error instanceof ApiError) || error.status !== 401) throw error
      current.value = null
    } finally {
      checked.value = true
    }
    return current.value
  }

  async function ensureChecked(): Promise<Session | null> {
    return checked.value ? current.value : refresh()
  }

  async function logout(): Promise<void> {
    try {
      await sessionApi.logout()
    } finally {
      clear()
    }
  }

  /** Forget the session locally, after the server reported it missing or expired. */
  function clear(): void {
    current.value = null
    checked.value = true
  }

  return { current, username, displayName, csrfToken, isLoggedIn, checked, hasRole, login, refresh, ensureChecked, logout, clear }
})
