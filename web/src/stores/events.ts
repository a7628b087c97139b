import { defineStore } from 'pinia'
import { getCurrentScope, onScopeDispose, ref } from 'vue'
import { EVENTS_PATH, EVENT_TYPES, parseEvent, type EventPayloads, type EventType } from '@/api/events'

export type EventHandler<K extends EventType> = (payload: EventPayloads[K]) => void
export type ConnectionState = 'closed' | 'connecting' | 'open'

// Reconnect delays after the browser gave up on the stream (an error status, for example). Each delay
// doubles the one before, up to the maximum. Up to half of each delay is taken off at random, so that
// many browsers do not reconnect in the same instant.
export const FIRST_RETRY_MS = 1_000
export const MAX_RETRY_MS = 30_000

/**
 * The one EventSource of the app and its subscribers.
 *
 * While the connection is only interrupted, the browser reconnects by itself (readyState CONNECTING)
 * and sends Last-Event-ID, so the server replays the missed events or sends `resync`. When the browser
 * gives up (readyState CLOSED: an error status such as 401 after logout), this store opens a new
 * EventSource after a backoff delay. A new EventSource has no Last-Event-ID, so its opening is
 * announced to subscribers as a `resync` event.
 */
export const useEvents = defineStore('events', () => {
  const state = ref<ConnectionState>('closed')
  const blindReason = ref<string | null>(null)
  const blindSince = ref<number | null>(null)
  // Counts blind events, so that a list read before the latest one cannot overwrite it.
  let blindEvents = 0

  const handlers = new Map<EventType, Set<(payload: never) => void>>()
  let source: EventSource | null = null
  let retryTimer: ReturnType<typeof setTimeout> | null = null
  let failures = 0
  let closedHandler: (() => void) | null = null

  function dispatch<K extends EventType>(type: K, payload: EventPayloads[K]): void {
    if (type === 'blind') {
      const blind = payload as EventPayloads['blind']
      blindEvents += 1
      blindReason.value = blind.reason
      blindSince.value = blind.reason === null ? null : (blind.since ?? null)
    }
    for (const handler of handlers.get(type) ?? []) {
      try {
        ;(handler as EventHandler<K>)(payload)
      } catch (error) {
        // One failing page must not stop the others from hearing the event.
        console.error(`handler of event ${type} failed`, error)
      }
    }
  }

  function connect(): void {
    retryTimer = null
    state.value = 'connecting'
    const opened = new EventSource(EVENTS_PATH, { withCredentials: true })
    source = opened

    for (const type of EVENT_TYPES) {
      opened.addEventListener(type, (event: MessageEvent<string>) => {
        const payload = parseEvent(type, event.data)
        if (payload === null) {
          console.warn(`ignored event ${type} with an invalid payload`, event.data)
          return
        }
        dispatch(type, payload)
      })
    }

    opened.onopen = () => {
      state.value = 'open'
      const replaced = failures > 0
      failures = 0
      if (replaced) dispatch('resync', {})
    }

    opened.onerror = () => {
      if (opened.readyState !== EventSource.CLOSED) {
        state.value = 'connecting'
        return
      }
      opened.close()
      source = null
      scheduleReconnect()
      closedHandler?.()
    }
  }

  function scheduleReconnect(): void {
    state.value = 'connecting'
    const ceiling = Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** failures)
    failures += 1
    retryTimer = setTimeout(connect, ceiling * (0.5 + Math.random() / 2))
  }

  /** Open the stream unless it is open or a reconnection is scheduled. */
  function start(): void {
    if (source !== null || retryTimer !== null) return
    connect()
  }

  /** Close the stream and cancel reconnection, for example at logout. */
  function stop(): void {
    if (retryTimer !== null) clearTimeout(retryTimer)
    retryTimer = null
    source?.close()
    source = null
    failures = 0
    state.value = 'closed'
    blindReason.value = null
    blindSince.value = null
  }

  /**
   * Return a function that records the blind state of a response to a request sent now, such as the
   * service list. The stream reports only changes, so this is how a page opened while TaskDash is
   * already blind learns it. A blind event that arrives before the response wins, being newer.
   */
  function blindReporter(): (reason: string | null, since: number | null) => void {
    const eventsBefore = blindEvents
    return (reason, since) => {
      if (blindEvents !== eventsBefore) return
      blindReason.value = reason
      blindSince.value = reason === null ? null : since
    }
  }

  /**
   * Call `handler` whenever the browser gives up on the stream. EventSource hides the HTTP status, so
   * the handler checks the session through the API, which stops the stream and opens the login page on 401.
   */
  function onStreamClosed(handler: () => void): void {
    closedHandler = handler
  }

  /** Call `handler` with every event of `type`; return the function that unsubscribes it. */
  function on<K extends EventType>(type: K, handler: EventHandler<K>): () => void {
    let registered = handlers.get(type)
    if (!registered) {
      registered = new Set()
      handlers.set(type, registered)
    }
    const stored = handler as (payload: never) => void
    registered.add(stored)
    return () => registered.delete(stored)
  }

  return { state, blindReason, blindSince, start, stop, on, onStreamClosed, blindReporter }
})

/** Subscribe to `type` for the lifetime of the calling component or effect scope. */
export function useServerEvent<K extends EventType>(type: K, handler: EventHandler<K>): () => void {
  const off = useEvents().on(type, handler)
  if (getCurrentScope()) onScopeDispose(off)
  return off
}
