import { exportUrl, type ExportQuery } from './exportUrl'
import { call, client } from './http'
import type { components, paths } from './schema'

export type ServiceList = components['schemas']['ServiceList']
export type Service = components['schemas']['ServiceOut']
export type ServiceState = components['schemas']['ServiceState']
export type StateCounts = components['schemas']['StateCounts']
export type ServiceTimeline = components['schemas']['TimelineOut']
export type TimelineBucket = components['schemas']['TimelineBucket']
export type ServiceListQuery = NonNullable<paths['/api/v1/services']['get']['parameters']['query']>
/** The filters of the service list, which its CSV export takes too. */
export type ServiceFilter = ExportQuery<'/api/v1/services/export.csv'>

export const SERVICE_STATES: readonly ServiceState[] = ['online', 'suspect', 'offline', 'unknown']

/** The server's maximum `limit` of one page of services. */
export const MAX_SERVICES_PAGE = 500

export function listServices(query: ServiceListQuery = {}): Promise<ServiceList> {
  return call(client.GET('/api/v1/services', { params: { query } }))
}

/** Return the heartbeats of the service `url` over the last minutes, in time buckets, oldest first. */
export function getServiceTimeline(url: string): Promise<ServiceTimeline> {
  return call(client.GET('/api/v1/services/timeline', { params: { query: { url } } }))
}

/** Return the URL of the CSV export of the services that `filter` selects. */
export function exportServicesUrl(filter: ServiceFilter): string {
  return exportUrl('/api/v1/services/export.csv', filter)
}
