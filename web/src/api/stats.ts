import { exportUrl } from './exportUrl'
import { call, client } from './http'
import type { components } from './schema'

export type Stats = components['schemas']['StatsOut']
export type DayCount = components['schemas']['DayCount']
/** One table of the statistics in the CSV export. */
export type StatsTable = components['schemas']['StatsTable']
/** Status -> number of tasks. */
export type StatusCounts = Stats['by_status']

/** Return task counts visible to the user: admins get every task, managers their groups' tasks, others their own. */
export function getStats(): Promise<Stats> {
  return call(client.GET('/api/v1/stats'))
}

/** Return the URL of the CSV export of one table of the statistics, counted as getStats() counts. */
export function exportStatsUrl(table: StatsTable): string {
  return exportUrl('/api/v1/stats/export.csv', { table })
}
