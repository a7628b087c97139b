import { call, client } from './http'
import type { components } from './schema'

export type Stats = components['schemas']['StatsOut']
export type DayCount = components['schemas']['DayCount']
/** Status -> number of tasks. */
export type StatusCounts = Stats['by_status']

/** Return task counts visible to the user: admins get every task, managers their groups' tasks, others their own. */
export function getStats(): Promise<Stats> {
  return call(client.GET('/api/v1/stats'))
}
