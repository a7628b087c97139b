// The server-sent event stream GET /api/v1/events. OpenAPI cannot describe event streams, so these
// payload types are written by hand from the server's event contract, and parseEvent() checks each
// payload at run time instead of trusting it.

export const EVENTS_PATH = '/api/v1/events'

/** One task changed: its state after the change. */
export interface TaskEvent {
  task_id: string
  status: string
  user: string
  checker: string
  group_id: string
  service_url: string
  version: number
  action: string
  actor: string
  /** Unix time in seconds. */
  at: number
  // The task's state before the change; absent from servers that do not send it.
  previous_status?: string
  previous_user?: string
  previous_checker?: string
  previous_group_id?: string
}

/** One poll of a task service changed `count` tasks at once; lists should reload. */
export interface TasksEvent {
  service_url: string
  count: number
}

/** A task service changed liveness state (online, suspect, offline, unknown) or appeared (previous null). */
export interface ServiceStateEvent {
  change: 'state'
  url: string
  state: string
  previous: string | null
}

/** A task service's polls started failing, or succeeded again after failures. */
export interface ServicePollEvent {
  change: 'poll'
  url: string
  poll_ok: boolean
  poll_error: string
}

/** Too many services changed state at once for one event each: reload the service list. */
export interface ServicesChangedEvent {
  change: 'many'
  count: number
}

export type ServiceEvent = ServiceStateEvent | ServicePollEvent | ServicesChangedEvent

/**
 * TaskDash cannot judge liveness, so offline transitions are frozen: `reason` is a code (starting,
 * intake_disconnected, mass_silence). A null reason means that it can judge again.
 */
export interface BlindEvent {
  reason: string | null
  /** Unix time in seconds when TaskDash became blind; absent from servers that do not send it. */
  since?: number | null
}

/** Events may have been missed: reload lists. */
export type ResyncEvent = Record<string, never>

export interface EventPayloads {
  task: TaskEvent
  tasks: TasksEvent
  service: ServiceEvent
  blind: BlindEvent
  resync: ResyncEvent
}

export type EventType = keyof EventPayloads

export const EVENT_TYPES: readonly EventType[] = ['task', 'tasks', 'service', 'blind', 'resync']

type Fields = Record<string, unknown>

function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function hasStrings(fields: Fields, names: readonly string[]): boolean {
  return names.every((name) => typeof fields[name] === 'string')
}

function hasNumbers(fields: Fields, names: readonly string[]): boolean {
  return names.every((name) => typeof fields[name] === 'number')
}

function hasOptionalStrings(fields: Fields, names: readonly string[]): boolean {
  return names.every((name) => fields[name] === undefined || typeof fields[name] === 'string')
}

const TASK_STRINGS = ['task_id', 'status', 'user', 'checker', 'group_id', 'service_url', 'action', 'actor'] as const
const TASK_PREVIOUS = ['previous_status', 'previous_user', 'previous_checker', 'previous_group_id'] as const

function isServiceEvent(fields: Fields): boolean {
  switch (fields.change) {
    case 'state':
      return hasStrings(fields, ['url', 'state']) && (fields.previous === null || typeof fields.previous === 'string')
    case 'poll':
      return hasStrings(fields, ['url', 'poll_error']) && typeof fields.poll_ok === 'boolean'
    case 'many':
      return hasNumbers(fields, ['count'])
    default:
      return false
  }
}

const validators: { [K in EventType]: (fields: Fields) => boolean } = {
  task: (fields) =>
    hasStrings(fields, TASK_STRINGS) && hasNumbers(fields, ['version', 'at']) && hasOptionalStrings(fields, TASK_PREVIOUS),
  tasks: (fields) => hasStrings(fields, ['service_url']) && hasNumbers(fields, ['count']),
  service: isServiceEvent,
  blind: (fields) =>
    (fields.reason === null || typeof fields.reason === 'string') &&
    (fields.since === undefined || fields.since === null || typeof fields.since === 'number'),
  resync: () => true,
}

/** Return the payload of an event of `type` from its JSON `data`, or null when it is not valid JSON of that shape. */
export function parseEvent<K extends EventType>(type: K, data: string): EventPayloads[K] | null {
  let value: unknown
  try {
    value = JSON.parse(data)
  } catch {
    return null
  }
  if (!isFields(value) || !validators[type](value)) return null
  return value as unknown as EventPayloads[K]
}
