import { defineStore } from 'pinia'
import { ref } from 'vue'
import { MAX_SERVICES_PAGE, listServices, type Service } from '@/api/services'
import { useEvents } from './events'

// Service lists change slowly: a page that needs them reuses one read for this long.
const MAX_AGE_MS = 60_000

/** The task service catalogue, for filters that pick a service and for showing names instead of URLs. */
export const useServicesStore = defineStore('services', () => {
  const services = ref<Service[]>([])
  const loadedAt = ref(0)
  let pending: Promise<void> | null = null

  async function load(force = false): Promise<void> {
    if (!force && Date.now() - loadedAt.value < MAX_AGE_MS) return
    const reportBlind = useEvents().blindReporter()
    // NOTE: pickers offer the first MAX_SERVICES_PAGE services by URL; a larger fleet needs a search box instead.
    pending ??= listServices({ limit: MAX_SERVICES_PAGE })
      .then((list) => {
        services.value = list.services
        loadedAt.value = Date.now()
        reportBlind(list.blind_reason, list.blind_since)
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  /** Return the name of the service at `url`, or the URL when the service has no name or is not loaded. */
  function nameOf(url: string): string {
    return services.value.find((service) => service.url === url)?.name || url
  }

  return { services, load, nameOf }
})
