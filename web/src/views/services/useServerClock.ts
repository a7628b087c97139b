import { computed, getCurrentScope, onScopeDispose, ref } from 'vue'

export const TICK_MS = 1_000

/**
 * The server's clock as seen from the browser, ticking once a second. The browser's clock may be off by
 * minutes, so ages of server times (such as the last heartbeat) are computed from the difference between
 * a server time in a response and the browser's clock when the response arrived.
 *
 * NOTE: the reference time is the liveness judgement's time, which the server renews about once a second,
 * so the ages shown can be up to about a second plus the response time too low.
 */
export function useServerClock() {
  const nowSeconds = ref(Date.now() / 1000)
  // Server time minus browser time, in seconds.
  const offsetSeconds = ref(0)

  const timer = setInterval(() => {
    nowSeconds.value = Date.now() / 1000
  }, TICK_MS)
  if (getCurrentScope()) onScopeDispose(() => clearInterval(timer))

  const serverNow = computed(() => nowSeconds.value + offsetSeconds.value)

  /** Record a server time that a response just brought. */
  function sync(serverSeconds: number): void {
    nowSeconds.value = Date.now() / 1000
    offsetSeconds.value = serverSeconds - nowSeconds.value
  }

  /** Return the seconds since server time `seconds`, or null when it is null. */
  function ageOf(seconds: number | null): number | null {
    return seconds === null ? null : Math.max(0, serverNow.value - seconds)
  }

  return { serverNow, offsetSeconds, sync, ageOf }
}

export type ServerClock = ReturnType<typeof useServerClock>
