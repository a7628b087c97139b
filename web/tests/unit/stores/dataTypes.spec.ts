import { createPinia, setActivePinia } from 'pinia'
import { beforeEach, describe, expect, it, vi } from 'vitest'
import * as tasksApi from '@/api/tasks'
import { useDataTypesStore } from '@/stores/dataTypes'

vi.mock('@/api/tasks', async (importOriginal) => ({
  ...(await importOriginal<typeof import('@/api/tasks')>()),
  listDataTypes: vi.fn(),
}))

beforeEach(() => {
  setActivePinia(createPinia())
  vi.mocked(tasksApi.listDataTypes).mockResolvedValue([
    { data_type: 'image', count: 12 },
    { data_type: 'video', count: 3 },
  ])
})

describe('useDataTypesStore', () => {
  it('loads the data types once within the cache time', async () => {
    const dataTypes = useDataTypesStore()

    await dataTypes.load()
    await dataTypes.load()

    expect(tasksApi.listDataTypes).toHaveBeenCalledTimes(1)
    expect(dataTypes.dataTypes.map((item) => item.data_type)).toEqual(['image', 'video'])
  })

  it('keeps the last list when a reload fails', async () => {
    const dataTypes = useDataTypesStore()
    await dataTypes.load()
    vi.mocked(tasksApi.listDataTypes).mockRejectedValue(new Error('offline'))

    await expect(dataTypes.load(true)).rejects.toThrow('offline')

    expect(dataTypes.dataTypes).toHaveLength(2)
  })
})
