import { computed, ref, shallowRef, watch, type Ref } from 'vue'
import { useI18n } from 'vue-i18n'
import { getServiceTimeline, type ServiceTimeline } from '@/api/services'
import { useLocaleStore } from '@/stores/locale'
import type { ChartOption } from '@/utils/echarts'

const timeFormatters = new Map<string, Intl.DateTimeFormat>()

function clockTime(seconds: number, language: string): string {
  let formatter = timeFormatters.get(language)
  if (!formatter) {
    formatter = new Intl.DateTimeFormat(language, { hour: '2-digit', minute: '2-digit', second: '2-digit' })
    timeFormatters.set(language, formatter)
  }
  return formatter.format(new Date(seconds * 1000))
}

/** Load the heartbeat timeline of the service `url` now and whenever `reloads` changes. */
export function useServiceTimeline(url: Ref<string>, reloads: Ref<number>) {
  const { t } = useI18n()
  const locale = useLocaleStore()
  const timeline = shallowRef<ServiceTimeline | null>(null)
  const loading = ref(false)
  const error = ref<unknown>(null)
  let loadSequence = 0

  async function load(): Promise<void> {
    const sequence = ++loadSequence
    // Only the first load shows the spinner: later ones replace the bars in place.
    if (timeline.value === null) loading.value = true
    try {
      const loaded = await getServiceTimeline(url.value)
      if (sequence !== loadSequence) return
      timeline.value = loaded
      error.value = null
    } catch (failure) {
      if (sequence === loadSequence) error.value = failure
    } finally {
      if (sequence === loadSequence) loading.value = false
    }
  }

  const minutes = computed(() =>
    timeline.value ? Math.round((timeline.value.buckets.length * timeline.value.bucket_seconds) / 60) : 0,
  )
  const heartbeats = computed(() => (timeline.value?.buckets ?? []).reduce((sum, bucket) => sum + bucket.heartbeats, 0))

  const option = computed<ChartOption>(() => {
    const buckets = timeline.value?.buckets ?? []
    const seconds = timeline.value?.bucket_seconds ?? 0
    return {
      animation: false,
      grid: { left: 32, right: 8, top: 8, bottom: 24 },
      tooltip: {
        trigger: 'axis',
        formatter: (params: unknown) => {
          const index = Array.isArray(params) ? (params[0] as { dataIndex: number }).dataIndex : 0
          const bucket = buckets[index]
          if (!bucket) return ''
          return t('services.timelineTooltip', {
            from: clockTime(bucket.at, locale.language),
            seconds,
            count: bucket.heartbeats,
          })
        },
      },
      xAxis: {
        type: 'category',
        data: buckets.map((bucket) => clockTime(bucket.at, locale.language)),
        axisLabel: { interval: 'auto', hideOverlap: true },
        axisTick: { show: false },
      },
      yAxis: { type: 'value', minInterval: 1, splitNumber: 2 },
      series: [
        {
          type: 'bar',
          name: t('services.heartbeats'),
          data: buckets.map((bucket) => bucket.heartbeats),
          itemStyle: { color: '#67c23a' },
          barCategoryGap: '20%',
        },
      ],
    }
  })

  watch([url, reloads], () => void load(), { immediate: true })

  return { timeline, minutes, heartbeats, loading, error, option, load }
}
