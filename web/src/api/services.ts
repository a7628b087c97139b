import { call, client } from './http'
import type { components } from './schema'

export type ServiceList = components['schemas']['ServiceList']
export type Service = components['schemas']['ServiceOut']

export function listServices(): Promise<ServiceList> {
  return call(client.GET('/api/v1/services'))
}
