import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as servicesApi from '@/api/services'
import { useEvents } from '@/stores/events'
import { useServicesStore } from '@/stores/services'
import { makeService, makeServiceList } from '../../support/services'

vi.mock('@/api/services', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/services')>()),
  listServices: vi.fn(),
}))

beforeEach(() => {
  setActivePinia(createPinia())
})

describe('useServicesStore', () => {
  it('asks for the largest page the server allows', async () => {
    vi.mocked(servicesApi.listServices).mockResolvedValue(makeServiceList([makeService()]))

    await useServicesStore().load()

    expect(servicesApi.listServices).toHaveBeenCalledWith({ limit: servicesApi.MAX_SERVICES_PAGE })
  })

  it('returns names by URL, and the URL of a nameless service', async () => {
    vi.mocked(servicesApi.listServices).mockResolvedValue(
      makeServiceList([makeService({ url: 'http://a/', name: 'A' }), makeService({ url: 'http://b/', name: '' })]),
    )
    const services = useServicesStore()
    await services.load()

    expect(services.nameOf('http://a/')).toBe('A')
    expect(services.nameOf('http://b/')).toBe('http://b/')
    expect(services.nameOf('http://c/')).toBe('http://c/')
  })

  it('tells the event store that TaskDash is blind', async () => {
    vi.mocked(servicesApi.listServices).mockResolvedValue(
      makeServiceList([], { blind_reason: 'mass_silence', blind_since: 1_700_000_000 }),
    )

    await useServicesStore().load()

    expect(useEvents().blindReason).toBe('mass_silence')
    expect(useEvents().blindSince).toBe(1_700_000_000)
  })
})
