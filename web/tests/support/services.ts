import type { Service, ServiceList } from '@/api/services'

/** A service as the API returns it, with `changes` applied. */
export function makeService(changes: Partial<Service> = {}): Service {
  return {
    url: 'http://127.0.0.1:8611/rpost/test',
    name: 'demo',
    type: '2',
    reserved: '',
    extra: {},
    registered: true,
    status: 'online',
    last_heartbeat_at: 1_700_000_000,
    last_heartbeat_received_at: 1_700_000_000,
    last_sender_time: 1_700_000_000,
    clock_skew: 0,
    last_poll_at: 1_700_000_000,
    last_poll_ok: true,
    last_poll_error: '',
    poll_failures: 0,
    task_count: 3,
    ...changes,
  }
}

export function makeServiceList(services: Service[] = [], changes: Partial<ServiceList> = {}): ServiceList {
  return {
    services,
    total: services.length,
    counts: { online: services.length, suspect: 0, offline: 0, unknown: 0 },
    blind_reason: null,
    blind_since: null,
    judged_at: 1_700_000_000,
    ...changes,
  }
}
