import { defineStore } from 'pinia'
import { ref } from 'vue'
import { listDataTypes, type DataTypeCount } from '@/api/tasks'

// New data types arrive only with new tasks: filters reuse one read for this long.
const MAX_AGE_MS = 60_000

/** The data types of the tasks the user can see, for the data type filters. */
export const useDataTypesStore = defineStore('dataTypes', () => {
  const dataTypes = ref<DataTypeCount[]>([])
  const loadedAt = ref(0)
  let pending: Promise<void> | null = null

  async function load(force = false): Promise<void> {
    if (!force && Date.now() - loadedAt.value < MAX_AGE_MS) return
    pending ??= listDataTypes()
      .then((loaded) => {
        dataTypes.value = loaded
        loadedAt.value = Date.now()
      })
      .finally(() => {
        pending = null
      })
    return pending
  }

  return { dataTypes, load }
})
