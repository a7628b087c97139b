import { call, callEmpty, client } from './http'
import type { components } from './schema'

export type Session = components['schemas']['SessionOut']

export function login(username: string, password: string): Promise<Session> {
  return call(client.POST('/api/v1/session', { body: { username, password } }))
}

export function fetchSession(): Promise<Session> {
  return call(client.GET('/api/v1/session'))
}

export function logout(): Promise<void> {
  return callEmpty(client.DELETE('/api/v1/session'))
}
