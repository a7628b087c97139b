export interface Debounced {
  (): void
  cancel(): void
}

/** Return a function that calls `action` once, `waitMs` after the last of a burst of calls. */
export function debounce(action: () => void, waitMs: number): Debounced {
  let timer: ReturnType<typeof setTimeout> | null = null
  const debounced = () => {
    if (timer !== null) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = null
      action()
    }, waitMs)
  }
  debounced.cancel = () => {
    if (timer !== null) clearTimeout(timer)
    timer = null
  }
  return debounced
}
