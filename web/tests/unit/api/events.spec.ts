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

  it('accepts service and tasks events', () => {
    expect(parseEvent('service', '{"url":"u","state":"offline","previous":"suspect"}')).toEqual({
      url: 'u',
      state: 'offline',
      previous: 'suspect',
    })
    expect(parseEvent('tasks', '{"service_url":"u","count":120}')).toEqual({ service_url: 'u', count: 120 })
  })
})
