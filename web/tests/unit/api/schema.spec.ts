// @vitest-environment node
import { readFile } from 'node:fs/promises'
import { describe, expect, it } from 'vitest'
import { SCHEMA_PATH, renderSchema } from '../../../scripts/gen-api.mjs'

describe('src/api/schema.d.ts', () => {
  it('is what openapi-typescript generates from openapi.json', async () => {
    const committed = await readFile(SCHEMA_PATH, 'utf8')

    // On failure: run `make openapi` (or `npm run gen:api` when only openapi.json changed).
    expect(committed === (await renderSchema()), 'schema.d.ts is stale: run `make openapi`').toBe(true)
  })
})
