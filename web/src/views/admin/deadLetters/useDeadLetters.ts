import { onMounted, ref, shallowRef } from 'vue'
import { listDeadLetters, type DeadLetter } from '@/api/deadLetters'
import { showError } from '@/utils/notify'

export const DEAD_LETTER_PAGE_SIZE = 100
/** Characters of a body shown before "expand". */
export const BODY_PREVIEW_LENGTH = 120

/** Return the start of `body` for the table, with an ellipsis when it is longer. */
export function bodyPreview(body: string): string {
  // Line breaks would make rows of uneven height: the expanded row shows them.
  const oneLine = body.replace(/\s+/g, ' ')
  return oneLine.length > BODY_PREVIEW_LENGTH ? `${oneLine.slice(0, BODY_PREVIEW_LENGTH)}…` : oneLine
}

/** Provide the dead letter page: messages that could not be processed, newest first, read page by page. */
export function useDeadLetters() {
  const rows = shallowRef<DeadLetter[]>([])
  const nextBeforeId = ref<number | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const error = ref<unknown>(null)
  let loadSequence = 0

  /** Load the newest page again, dropping older pages read before. */
  async function load(): Promise<void> {
    const sequence = ++loadSequence
    loading.value = true
    try {
      const page = await listDeadLetters(DEAD_LETTER_PAGE_SIZE)
      if (sequence !== loadSequence) return
      rows.value = page.dead_letters
      nextBeforeId.value = page.next_before_id
      error.value = null
    } catch (failure) {
      if (sequence !== loadSequence) return
      error.value = failure
      rows.value = []
    } finally {
      if (sequence === loadSequence) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    const before = nextBeforeId.value
    if (before === null || loadingMore.value) return
    const sequence = loadSequence
    loadingMore.value = true
    try {
      const page = await listDeadLetters(DEAD_LETTER_PAGE_SIZE, before)
      // A reload started meanwhile replaced the list: appending would mix the two.
      if (sequence !== loadSequence) return
      rows.value = [...rows.value, ...page.dead_letters]
      nextBeforeId.value = page.next_before_id
    } catch (failure) {
      showError(failure)
    } finally {
      loadingMore.value = false
    }
  }

  onMounted(() => void load())

  return { rows, nextBeforeId, loading, loadingMore, error, load, loadMore }
}
