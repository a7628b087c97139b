import { defineStore } from 'pinia'
import { ref } from 'vue'
import { listServices, type Service } from '@/api/services'

// Service lists change slowly: a page that needs them reuses one read for this long.
const MAX_AGE_MS = 60_000

/** The task service catalogue, for filters that pick a service. */
export const useServicesStore = defineStore('services', () => {
  const services = ref<Service[]>([])
  const loadedAt = ref(0)
  let pending: Promise<void> | null = null

  async function load(force = false): Promise<void> {
    if (!force && Date.now() - loadedAt.value < MAX_AGE_MS) return
    pending ??= listServices()
      .then((list) => {
        services.value = list.services
        loadedAt.value = Date.now()
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  return { services, load }
})
