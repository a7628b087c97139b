import { exportUrl } from './exportUrl'
import { call, client } from './http'
import type { components } from './schema'

export type DeadLetter = components['schemas']['DeadLetterOut']
export type DeadLetterPage = components['schemas']['DeadLetterPage']

/** Return up to `limit` dead letters, newest first, older than `beforeId` when it is given. */
export function listDeadLetters(limit: number, beforeId?: number): Promise<DeadLetterPage> {
  const query = beforeId === undefined ? { limit } : { limit, before_id: beforeId }
  return call(client.GET('/api/v1/dead-letters', { params: { query } }))
}

/** The URL of the CSV export of every dead letter, newest first. */
export const DEAD_LETTERS_EXPORT_URL = exportUrl('/api/v1/dead-letters/export.csv')
