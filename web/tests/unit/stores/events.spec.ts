import { createPinia, setActivePinia } from 'pinia'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope } from 'vue'
import { FIRST_RETRY_MS, MAX_RETRY_MS, useEvents, useServerEvent } from '@/stores/events'
import { FakeEventSource } from '../../support/fakeEventSource'

const TASK_EVENT = {
  task_id: 't1',
  status: 'running',
  user: 'alice',
  checker: '',
  group_id: '',
  service_url: 'http://127.0.0.1:8611/rpost/test',
  version: 2,
  action: 'claim',
  actor: 'alice',
  at: 1_700_000_000,
}

beforeEach(() => {
  vi.useFakeTimers()
  FakeEventSource.reset()
  vi.stubGlobal('EventSource', FakeEventSource)
  // No jitter: every delay is its ceiling.
  vi.spyOn(Math, 'random').mockReturnValue(1)
  setActivePinia(createPinia())
})

afterEach(() => {
  useEvents().stop()
  vi.useRealTimers()
})

describe('useEvents', () => {
  it('opens one EventSource with credentials', () => {
    const events = useEvents()

    events.start()
    events.start()

    expect(FakeEventSource.instances).toHaveLength(1)
    expect(FakeEventSource.latest().url).toBe('/api/v1/events')
    expect(FakeEventSource.latest().withCredentials).toBe(true)
    expect(events.state).toBe('connecting')
  })

  it('dispatches events by type', () => {
    const events = useEvents()
    const onTask = vi.fn()
    const onService = vi.fn()
    events.on('task', onTask)
    events.on('service', onService)
    events.start()

    FakeEventSource.latest().emit('task', TASK_EVENT)

    expect(onTask).toHaveBeenCalledWith(TASK_EVENT)
    expect(onService).not.toHaveBeenCalled()
  })

  it('drops payloads of the wrong shape', () => {
    const events = useEvents()
    const onTask = vi.fn()
    vi.spyOn(console, 'warn').mockImplementation(() => undefined)
    events.on('task', onTask)
    events.start()

    FakeEventSource.latest().emit('task', { task_id: 't1' })

    expect(onTask).not.toHaveBeenCalled()
  })

  it('stops calling an unsubscribed handler', () => {
    const events = useEvents()
    const onTask = vi.fn()
    const off = events.on('task', onTask)
    events.start()

    off()
    FakeEventSource.latest().emit('task', TASK_EVENT)

    expect(onTask).not.toHaveBeenCalled()
  })

  it('keeps dispatching when a handler throws', () => {
    const events = useEvents()
    const second = vi.fn()
    vi.spyOn(console, 'error').mockImplementation(() => undefined)
    events.on('task', () => {
      throw new Error('broken page')
    })
    events.on('task', second)
    events.start()

    FakeEventSource.latest().emit('task', TASK_EVENT)

    expect(second).toHaveBeenCalledTimes(1)
  })

  it('tracks blind state', () => {
    const events = useEvents()
    events.start()

    FakeEventSource.latest().emit('blind', { reason: 'NSQ intake disconnected' })
    expect(events.blindReason).toBe('NSQ intake disconnected')

    FakeEventSource.latest().emit('blind', { reason: null })
    expect(events.blindReason).toBeNull()
  })

  it('tracks when blindness began and forgets it on recovery', () => {
    const events = useEvents()
    events.start()

    FakeEventSource.latest().emit('blind', { reason: 'mass_silence', since: 1_700_000_000 })
    expect(events.blindSince).toBe(1_700_000_000)

    FakeEventSource.latest().emit('blind', { reason: null, since: null })
    expect(events.blindSince).toBeNull()
  })

  it('takes the blind state of a list response', () => {
    const events = useEvents()

    events.blindReporter()('intake_disconnected', 1_700_000_000)

    expect(events.blindReason).toBe('intake_disconnected')
    expect(events.blindSince).toBe(1_700_000_000)
  })

  it('lets a blind event win over a response to an older request', () => {
    const events = useEvents()
    events.start()
    const report = events.blindReporter()

    FakeEventSource.latest().emit('blind', { reason: null })
    report('starting', 1_700_000_000)

    expect(events.blindReason).toBeNull()
  })

  it('reconnects with growing, capped delays after the server closes the stream', () => {
    const events = useEvents()
    events.start()
    const delays: number[] = []

    for (let attempt = 0; attempt < 8; attempt += 1) {
      const before = FakeEventSource.instances.length
      FakeEventSource.latest().fail()
      vi.advanceTimersByTime(1)
      let waited = 1
      while (FakeEventSource.instances.length === before && waited <= MAX_RETRY_MS) {
        vi.advanceTimersByTime(100)
        waited += 100
      }
      delays.push(waited)
    }

    expect(delays[0]).toBeGreaterThanOrEqual(FIRST_RETRY_MS)
    expect(delays[1]).toBeGreaterThan(delays[0] ?? 0)
    expect(Math.max(...delays)).toBeLessThanOrEqual(MAX_RETRY_MS + 100)
    expect(FakeEventSource.instances).toHaveLength(9)
  })

  it('sends resync to subscribers after reconnecting', () => {
    const events = useEvents()
    const onResync = vi.fn()
    events.on('resync', onResync)
    events.start()
    FakeEventSource.latest().open()
    expect(onResync).not.toHaveBeenCalled()

    FakeEventSource.latest().fail()
    vi.advanceTimersByTime(FIRST_RETRY_MS)
    FakeEventSource.latest().open()

    expect(onResync).toHaveBeenCalledTimes(1)
    expect(events.state).toBe('open')
  })

  it('leaves missed events to the server when the browser reconnects by itself', () => {
    const events = useEvents()
    const onResync = vi.fn()
    events.on('resync', onResync)
    events.start()
    const source = FakeEventSource.latest()
    source.open()

    source.interrupt()
    expect(events.state).toBe('connecting')
    source.open()

    expect(FakeEventSource.instances).toHaveLength(1)
    expect(onResync).not.toHaveBeenCalled()
  })

  it('reports a stream the browser gave up on', () => {
    const events = useEvents()
    const onClosed = vi.fn()
    events.onStreamClosed(onClosed)
    events.start()

    FakeEventSource.latest().interrupt()
    expect(onClosed).not.toHaveBeenCalled()
    FakeEventSource.latest().fail()

    expect(onClosed).toHaveBeenCalledTimes(1)
  })

  it('stop closes the stream and cancels reconnection', () => {
    const events = useEvents()
    events.start()
    const source = FakeEventSource.latest()
    source.fail()

    events.stop()
    vi.advanceTimersByTime(MAX_RETRY_MS * 2)

    expect(FakeEventSource.instances).toHaveLength(1)
    expect(source.readyState).toBe(FakeEventSource.CLOSED)
    expect(events.state).toBe('closed')
  })

  it('useServerEvent unsubscribes when its scope ends', () => {
    const events = useEvents()
    const onTask = vi.fn()
    const scope = effectScope()
    scope.run(() => useServerEvent('task', onTask))
    events.start()

    scope.stop()
    FakeEventSource.latest().emit('task', TASK_EVENT)

    expect(onTask).not.toHaveBeenCalled()
  })
})
