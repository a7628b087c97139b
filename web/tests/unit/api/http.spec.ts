import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { ApiError } from '@/api/errors'
import { configureClient, type ClientHooks } from '@/api/http'
import { fetchSession, login, logout } from '@/api/session'
import { claimTask, exportTasksUrl, getTask, listTasks, rejectTask } from '@/api/tasks'
import { makePage, makeTask } from '../../support/tasks'

function jsonResponse(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

let fetchMock: ReturnType<typeof vi.fn<(request: Request) => Promise<Response>>>
let onNotLoggedIn: ReturnType<typeof vi.fn<ClientHooks['onNotLoggedIn']>>
let onCsrfRejected: ReturnType<typeof vi.fn<ClientHooks['onCsrfRejected']>>

function sentRequest(index = 0): Request {
  const request = fetchMock.mock.calls[index]?.[0]
  if (!request) throw new Error(`no request number ${index}`)
  return request
}

beforeEach(() => {
  fetchMock = vi.fn<(request: Request) => Promise<Response>>()
  vi.stubGlobal('fetch', fetchMock)
  onNotLoggedIn = vi.fn<ClientHooks['onNotLoggedIn']>()
  onCsrfRejected = vi.fn<ClientHooks['onCsrfRejected']>()
  configureClient({ language: () => 'en', csrfToken: () => 'token-1', onNotLoggedIn, onCsrfRejected })
})

afterEach(() => {
  configureClient({ language: () => 'zh-CN', csrfToken: () => null, onNotLoggedIn: () => {}, onCsrfRejected: () => {} })
})

describe('request headers', () => {
  it('sends Accept-Language on reads, without a CSRF token', async () => {
    fetchMock.mockResolvedValue(jsonResponse(makePage([])))

    await listTasks({ status: 'notget', limit: 20 })

    const request = sentRequest()
    expect(request.method).toBe('GET')
    expect(request.headers.get('Accept-Language')).toBe('en')
    expect(request.headers.get('X-CSRF-Token')).toBeNull()
  })

  it('sends the CSRF token on writes', async () => {
    fetchMock.mockResolvedValue(jsonResponse(makeTask({ status: 'running' })))

    await claimTask('task-1')

    expect(sentRequest().method).toBe('POST')
    expect(sentRequest().headers.get('X-CSRF-Token')).toBe('token-1')
  })

  it('sends the CSRF token on logout (DELETE)', async () => {
    fetchMock.mockResolvedValue(new Response(null, { status: 204 }))

    await logout()

    expect(sentRequest().method).toBe('DELETE')
    expect(sentRequest().headers.get('X-CSRF-Token')).toBe('token-1')
  })
})

describe('URLs and bodies', () => {
  it('puts the filters in the query string', async () => {
    fetchMock.mockResolvedValue(jsonResponse(makePage([])))

    await listTasks({ status: 'notget', data_type: 'image', limit: 50, cursor: 'abc', sort: 'task_id', order: 'desc' })

    const url = new URL(sentRequest().url)
    expect(url.pathname).toBe('/api/v1/tasks')
    expect(Object.fromEntries(url.searchParams)).toEqual({
      status: 'notget',
      data_type: 'image',
      limit: '50',
      cursor: 'abc',
      sort: 'task_id',
      order: 'desc',
    })
  })

  it('encodes task ids in paths', async () => {
    fetchMock.mockResolvedValue(jsonResponse({ task: makeTask(), history: [] }))

    await getTask('标注 #1?x')

    expect(new URL(sentRequest().url).pathname).toBe(`/api/v1/tasks/${encodeURIComponent('标注 #1?x')}`)
  })

  it('sends the rejection reason as JSON', async () => {
    fetchMock.mockResolvedValue(jsonResponse(makeTask({ status: 'running' })))

    await rejectTask('task-1', 'blurry')

    expect(new URL(sentRequest().url).pathname).toBe('/api/v1/tasks/task-1/reject')
    expect(await sentRequest().json()).toEqual({ reason: 'blurry' })
  })

  it('builds export links without empty filters', () => {
    expect(exportTasksUrl({ status: 'notget', data_type: '', text: 'a b', sort: 'created_at' })).toBe(
      '/api/v1/tasks/export.csv?status=notget&text=a+b&sort=created_at',
    )
    expect(exportTasksUrl({})).toBe('/api/v1/tasks/export.csv')
  })
})

describe('errors', () => {
  it('throws ApiError with the server errmsg', async () => {
    fetchMock.mockResolvedValue(
      jsonResponse({ errid: 1006, errmsg: 'The task is already claimed', detail: "task 'x' is already claimed" }, 409),
    )

    const error = await claimTask('x').catch((failure: unknown) => failure)

    expect(error).toBeInstanceOf(ApiError)
    expect((error as ApiError).status).toBe(409)
    expect((error as ApiError).errid).toBe(1006)
    expect((error as ApiError).body?.errmsg).toBe('The task is already claimed')
  })

  it('reports a missing session to the hook', async () => {
    fetchMock.mockResolvedValue(jsonResponse({ errid: 1003, errmsg: 'Not logged in' }, 401))

    await expect(fetchSession()).rejects.toBeInstanceOf(ApiError)

    expect(onNotLoggedIn).toHaveBeenCalledTimes(1)
  })

  it('does not treat wrong credentials as a missing session', async () => {
    fetchMock.mockResolvedValue(jsonResponse({ errid: 1007, errmsg: 'Wrong username or password' }, 401))

    await expect(login('alice', 'bad')).rejects.toMatchObject({ status: 401, errid: 1007 })

    expect(onNotLoggedIn).not.toHaveBeenCalled()
  })

  it('reports a rejected CSRF token to the hook', async () => {
    fetchMock.mockResolvedValue(jsonResponse({ errid: 1013, errmsg: 'The CSRF token is missing or invalid' }, 403))

    await expect(claimTask('x')).rejects.toMatchObject({ status: 403, errid: 1013 })

    expect(onCsrfRejected).toHaveBeenCalledTimes(1)
  })

  it('keeps the status of an error without an error body', async () => {
    fetchMock.mockResolvedValue(new Response('<html>Bad gateway</html>', { status: 502 }))

    const error = (await listTasks({}).catch((failure: unknown) => failure)) as ApiError

    expect(error.status).toBe(502)
    expect(error.body).toBeNull()
  })

  it('turns a failed fetch into a network error', async () => {
    fetchMock.mockRejectedValue(new TypeError('Failed to fetch'))

    const error = (await listTasks({}).catch((failure: unknown) => failure)) as ApiError

    expect(error).toBeInstanceOf(ApiError)
    expect(error.isNetworkError).toBe(true)
  })
})
