import { describe, expect, it } from 'vitest'
import { exportUrl } from '@/api/exportUrl'

describe('exportUrl', () => {
  it('returns the bare path without filters', () => {
    expect(exportUrl('/api/v1/dead-letters/export.csv')).toBe('/api/v1/dead-letters/export.csv')
    expect(exportUrl('/api/v1/services/export.csv', {})).toBe('/api/v1/services/export.csv')
  })

  it('leaves out unset and empty filters', () => {
    expect(exportUrl('/api/v1/users/export.csv', { text: '', role: undefined })).toBe('/api/v1/users/export.csv')
    expect(exportUrl('/api/v1/services/export.csv', { state: null, text: 'ocr' })).toBe('/api/v1/services/export.csv?text=ocr')
  })

  it('encodes filter values', () => {
    expect(exportUrl('/api/v1/groups/export.csv', { text: '标注&a=b c' })).toBe(
      '/api/v1/groups/export.csv?text=%E6%A0%87%E6%B3%A8%26a%3Db+c',
    )
  })

  it('keeps false values', () => {
    expect(exportUrl('/api/v1/tasks/export.csv', { include_missing: false })).toBe(
      '/api/v1/tasks/export.csv?include_missing=false',
    )
  })
})
