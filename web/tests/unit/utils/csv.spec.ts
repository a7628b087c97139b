import { describe, expect, it } from 'vitest'
import { toCsv } from '@/utils/csv'

describe('toCsv', () => {
  it('starts with a byte order mark and ends lines with CRLF', () => {
    const csv = toCsv(['a', 'b'], [['1', 2]])

    expect(csv.startsWith('\uFEFF')).toBe(true)
    expect(csv.slice(1)).toBe('a,b\r\n1,2\r\n')
  })

  it('quotes commas, quotes and line breaks', () => {
    const csv = toCsv(['text'], [['a,b'], ['say "hi"'], ['two\nlines']])

    expect(csv.slice(1).split('\r\n')).toEqual(['text', '"a,b"', '"say ""hi"""', '"two\nlines"', ''])
  })

  it('defuses cells that spreadsheets would run as formulas', () => {
    const csv = toCsv(['cell'], [['=1+1'], ['+x'], ['-y'], ['@z'], ['\tt']])

    expect(csv.slice(1).split('\r\n').slice(1, 6)).toEqual(["'=1+1", "'+x", "'-y", "'@z", "'\tt"])
  })

  it('keeps negative numbers as numbers', () => {
    expect(toCsv(['skew'], [[-1.5]]).slice(1)).toBe('skew\r\n-1.5\r\n')
  })

  it('writes null, undefined and booleans', () => {
    expect(toCsv(['a', 'b', 'c'], [[null, undefined, true]]).slice(1)).toBe('a,b,c\r\n,,true\r\n')
  })

  it('keeps Chinese text as it is', () => {
    expect(toCsv(['描述'], [['标注汽车']]).slice(1)).toBe('描述\r\n标注汽车\r\n')
  })
})
