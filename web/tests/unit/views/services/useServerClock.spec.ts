import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { effectScope, type EffectScope } from 'vue'
import { TICK_MS, useServerClock } from '@/views/services/useServerClock'

let scope: EffectScope

function createClock() {
  scope = effectScope()
  const clock = scope.run(() => useServerClock())
  if (!clock) throw new Error('useServerClock returned nothing')
  return clock
}

beforeEach(() => {
  vi.useFakeTimers()
  vi.setSystemTime(new Date(1_000_000 * 1000))
})

afterEach(() => {
  scope?.stop()
  vi.useRealTimers()
})

describe('useServerClock', () => {
  it('cancels the difference between the browser and server clocks', () => {
    const clock = createClock()

    // The server runs 300 s ahead of the browser; its last heartbeat came 5 s ago in server time.
    clock.sync(1_000_300)

    expect(clock.offsetSeconds.value).toBe(300)
    expect(clock.ageOf(1_000_295)).toBe(5)
  })

  it('counts ages up once a second', () => {
    const clock = createClock()
    clock.sync(1_000_000)

    vi.advanceTimersByTime(3 * TICK_MS)

    expect(clock.ageOf(1_000_000)).toBe(3)
  })

  it('ages missing and future times', () => {
    const clock = createClock()
    clock.sync(1_000_000)

    expect(clock.ageOf(null)).toBeNull()
    expect(clock.ageOf(1_000_010)).toBe(0)
  })

  it('stops ticking when its scope ends', () => {
    const clock = createClock()
    clock.sync(1_000_000)
    scope.stop()

    vi.advanceTimersByTime(5 * TICK_MS)

    expect(clock.ageOf(1_000_000)).toBe(0)
  })
})
