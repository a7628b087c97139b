// A stand-in for the browser's EventSource (jsdom has none), driven by the test.

type Listener = (event: MessageEvent<string>) => void

export class FakeEventSource {
  static readonly CONNECTING = 0
  static readonly OPEN = 1
  static readonly CLOSED = 2
  static instances: FakeEventSource[] = []

  readonly url: string
  readonly withCredentials: boolean
  readyState = FakeEventSource.CONNECTING
  onopen: (() => void) | null = null
  onerror: (() => void) | null = null
  private readonly listeners = new Map<string, Listener[]>()

  constructor(url: string, init?: { withCredentials?: boolean }) {
    this.url = url
    this.withCredentials = init?.withCredentials ?? false
    FakeEventSource.instances.push(this)
  }

  static latest(): FakeEventSource {
    const last = FakeEventSource.instances.at(-1)
    if (!last) throw new Error('no EventSource was opened')
    return last
  }

  static reset(): void {
    FakeEventSource.instances = []
  }

  addEventListener(type: string, listener: Listener): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  close(): void {
    this.readyState = FakeEventSource.CLOSED
  }

  open(): void {
    this.readyState = FakeEventSource.OPEN
    this.onopen?.()
  }

  emit(type: string, data: unknown): void {
    const text = typeof data === 'string' ? data : JSON.stringify(data)
    for (const listener of this.listeners.get(type) ?? []) listener(new MessageEvent(type, { data: text }))
  }

  /** Drop the connection, which the browser retries by itself. */
  interrupt(): void {
    this.readyState = FakeEventSource.CONNECTING
    this.onerror?.()
  }

  /** Fail the stream for good, as the browser does after an error status. */
  fail(): void {
    this.readyState = FakeEventSource.CLOSED
    this.onerror?.()
  }
}
