import { describe, expect, it } from 'vitest'
import { formatAge, formatNumber, formatSkew } from '@/utils/format'

describe('formatAge', () => {
  it('uses seconds, minutes, hours and days', () => {
    expect(formatAge(12.7, 'en')).toBe('12 sec. ago')
    expect(formatAge(125, 'en')).toBe('2 min. ago')
    expect(formatAge(2 * 3600 + 10, 'en')).toBe('2 hr. ago')
    expect(formatAge(3 * 86_400, 'en')).toBe('3 days ago')
  })

  it('speaks Chinese', () => {
    expect(formatAge(5, 'zh-CN')).toBe('5秒前')
  })

  it('counts a negative age as zero', () => {
    expect(formatAge(-3, 'en')).toBe('0 sec. ago')
  })
})

describe('formatSkew', () => {
  it('shows the sign and one decimal', () => {
    expect(formatSkew(1.25)).toBe('+1.3 s')
    expect(formatSkew(-120)).toBe('-120.0 s')
    expect(formatSkew(0)).toBe('±0.0 s')
  })
})

describe('formatNumber', () => {
  it('groups thousands', () => {
    expect(formatNumber(12345, 'en')).toBe('12,345')
  })
})
