import { flushPromises } from '@vue/test-utils'
import { afterEach, describe, expect, it, vi } from 'vitest'
import * as deadLettersApi from '@/api/deadLetters'
import type { DeadLetter } from '@/api/deadLetters'
import DeadLettersPage from '@/views/admin/deadLetters/index.vue'
import { BODY_PREVIEW_LENGTH, DEAD_LETTER_PAGE_SIZE, bodyPreview } from '@/views/admin/deadLetters/useDeadLetters'
import { createTestApp, makeSession, mountWithApp } from '../../../support/app'

vi.mock('@/api/deadLetters', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/deadLetters')>()),
  listDeadLetters: vi.fn(),
}))

function letter(id: number, changes: Partial<DeadLetter> = {}): DeadLetter {
  return {
    id,
    topic: 'heartBeat',
    source: 'nsq',
    body: '{"url": 3}',
    body_is_utf8: true,
    reason: 'url must be a string',
    received_at: 1_700_000_000,
    ...changes,
  }
}

async function mountLetters() {
  const wrapper = mountWithApp(DeadLettersPage, createTestApp(makeSession({ roles: ['admin'] })))
  await flushPromises()
  return wrapper
}

afterEach(() => {
  document.body.innerHTML = ''
})

describe('bodyPreview', () => {
  it('cuts long bodies and joins lines', () => {
    expect(bodyPreview('a\n b')).toBe('a b')
    expect(bodyPreview('x'.repeat(BODY_PREVIEW_LENGTH + 5))).toBe(`${'x'.repeat(BODY_PREVIEW_LENGTH)}…`)
  })
})

describe('dead letters page', () => {
  it('shows topic, reason and the body as plain text', async () => {
    vi.mocked(deadLettersApi.listDeadLetters).mockResolvedValue({
      dead_letters: [letter(2, { body: '<script>alert(1)</script>' })],
      next_before_id: null,
    })

    const wrapper = await mountLetters()

    expect(deadLettersApi.listDeadLetters).toHaveBeenCalledWith(DEAD_LETTER_PAGE_SIZE)
    expect(wrapper.text()).toContain('heartBeat')
    expect(wrapper.text()).toContain('url must be a string')
    expect(wrapper.find('[data-test="body-preview"]').text()).toBe('<script>alert(1)</script>')
    expect(wrapper.find('.el-table__body script').exists()).toBe(false)
  })

  it('expands a row to the whole body', async () => {
    const body = `{"data": "${'y'.repeat(300)}"}`
    vi.mocked(deadLettersApi.listDeadLetters).mockResolvedValue({ dead_letters: [letter(2, { body })], next_before_id: null })
    const wrapper = await mountLetters()

    await wrapper.find('.el-table__expand-icon').trigger('click')
    await flushPromises()

    expect(wrapper.find('[data-test="letter-body"]').text()).toBe(body)
  })

  it('loads older letters by id', async () => {
    vi.mocked(deadLettersApi.listDeadLetters)
      .mockResolvedValueOnce({ dead_letters: [letter(9)], next_before_id: 9 })
      .mockResolvedValueOnce({ dead_letters: [letter(4, { topic: 'taskService' })], next_before_id: null })
    const wrapper = await mountLetters()

    await wrapper.find('[data-test="load-more"]').trigger('click')
    await flushPromises()

    expect(deadLettersApi.listDeadLetters).toHaveBeenLastCalledWith(DEAD_LETTER_PAGE_SIZE, 9)
    expect(wrapper.text()).toContain('taskService')
    expect(wrapper.find('[data-test="load-more"]').exists()).toBe(false)
  })

  it('marks bodies that are not UTF-8', async () => {
    vi.mocked(deadLettersApi.listDeadLetters).mockResolvedValue({
      dead_letters: [letter(2, { body: 'fffe00', body_is_utf8: false })],
      next_before_id: null,
    })

    const wrapper = await mountLetters()

    expect(wrapper.text()).toContain('十六进制')
  })

  it('shows the empty state', async () => {
    vi.mocked(deadLettersApi.listDeadLetters).mockResolvedValue({ dead_letters: [], next_before_id: null })

    const wrapper = await mountLetters()

    expect(wrapper.text()).toContain('没有死信')
  })

  it('links the CSV export of every dead letter', async () => {
    vi.mocked(deadLettersApi.listDeadLetters).mockResolvedValue({ dead_letters: [letter(9)], next_before_id: 9 })

    const wrapper = await mountLetters()

    const link = wrapper.find('[data-test="export"]')
    expect(link.element.tagName).toBe('A')
    expect(link.attributes('href')).toBe('/api/v1/dead-letters/export.csv')
    expect(link.attributes('download')).toBeDefined()
  })
})
