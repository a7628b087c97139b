import { describe, expect, it } from 'vitest'
import { parseEvent } from '@/api/events'

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
  at: 1_700_000_000.5,
}

describe('parseEvent', () => {
  it('accepts a task event', () => {
    expect(parseEvent('task', JSON.stringify(TASK_EVENT))).toEqual(TASK_EVENT)
  })

  it('rejects a task event without a version', () => {
    const { version: _version, ...withoutVersion } = TASK_EVENT
    expect(parseEvent('task', JSON.stringify(withoutVersion))).toBeNull()
  })

  it('accepts the previous state of the task', () => {
    const event = { ...TASK_EVENT, previous_status: 'notget', previous_user: '', previous_checker: '', previous_group_id: '' }
    expect(parseEvent('task', JSON.stringify(event))).toEqual(event)
    expect(parseEvent('task', JSON.stringify({ ...TASK_EVENT, previous_user: 7 }))).toBeNull()
  })

  it('rejects invalid JSON', () => {
    expect(parseEvent('tasks', '{"service_url":')).toBeNull()
  })

  it('rejects a JSON array', () => {
    expect(parseEvent('resync', '[]')).toBeNull()
  })

  it('accepts blind events with and without a reason', () => {
    expect(parseEvent('blind', '{"reason":"NSQ intake disconnected"}')).toEqual({ reason: 'NSQ intake disconnected' })
    expect(parseEvent('blind', '{"reason":null}')).toEqual({ reason: null })
    expect(parseEvent('blind', '{"reason":3}')).toBeNull()
  })

  it('accepts tasks events', () => {
    expect(parseEvent('tasks', '{"service_url":"u","count":120}')).toEqual({ service_url: 'u', count: 120 })
  })

  it('accepts each kind of service event', () => {
    const state = { url: 'u', change: 'state', state: 'offline', previous: 'suspect' }
    const appeared = { url: 'u', change: 'state', state: 'online', previous: null }
    const poll = { url: 'u', change: 'poll', poll_ok: false, poll_error: 'timed out' }
    const many = { change: 'many', count: 40 }

    for (const event of [state, appeared, poll, many]) {
      expect(parseEvent('service', JSON.stringify(event))).toEqual(event)
    }
  })

  it('rejects service events of the wrong shape', () => {
    expect(parseEvent('service', '{"url":"u","state":"offline","previous":"suspect"}')).toBeNull()
    expect(parseEvent('service', '{"change":"poll","url":"u","poll_ok":"no","poll_error":""}')).toBeNull()
    expect(parseEvent('service', '{"change":"many"}')).toBeNull()
    expect(parseEvent('service', '{"change":"renamed","url":"u"}')).toBeNull()
  })

  it('accepts the time a blind state began', () => {
    expect(parseEvent('blind', '{"reason":"mass_silence","since":1700000000.5}')).toEqual({
      reason: 'mass_silence',
      since: 1_700_000_000.5,
    })
    expect(parseEvent('blind', '{"reason":"starting","since":"yesterday"}')).toBeNull()
  })
})
