// @vitest-environment node
import { readFile, readdir } from 'node:fs/promises'
import { join, relative, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findHardCodedText } from '../../support/templateText'

const SOURCE_DIR = resolve(__dirname, '../../../src')

async function filesUnder(folder: string, suffix: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true })
  return entries
    .filter((entry) => entry.isFile() && entry.name.endsWith(suffix))
    .map((entry) => join(entry.parentPath, entry.name))
    .sort()
}

describe('findHardCodedText', () => {
  it('finds text nodes, text attributes and bound literals', () => {
    const findings = findHardCodedText(`
<template>
  <div>
    <h1>Task hall</h1>
    <span>任务大厅</span>
    <ElInput placeholder="Search tasks" />
    <ElButton :title="'Claim'" />
    <p>{{ 'Welcome' }}</p>
    <p>{{ ok ? '成功' : t('common.none') }}</p>
    <img alt="logo" />
  </div>
</template>`)

    expect(findings.map((finding) => finding.text)).toEqual([
      'Task hall',
      '任务大厅',
      'placeholder="Search tasks"',
      ":title=\"'Claim'\"",
      "{{ 'Welcome' }}",
      "'成功'",
      'alt="logo"',
    ])
  })

  it('accepts translated text, punctuation and non-text attributes', () => {
    const findings = findHardCodedText(`
<template>
  <div class="task-table" data-test="claim">
    <h1>{{ t('hall.title') }}</h1>
    <ElInput :placeholder="t('filters.textPlaceholder')" maxlength="64" type="textarea" />
    <ElTag :type="status === 'finish' ? 'success' : 'info'">!</ElTag>
    <span>{{ row.description }} · {{ $t('common.none') }}</span>
    <ElButton :title="t(labels[language])" native-type="submit" />
  </div>
</template>`)

    expect(findings).toEqual([])
  })
})

describe('source files', () => {
  it('have no hard-coded UI text in .vue templates', async () => {
    const files = await filesUnder(SOURCE_DIR, '.vue')
    expect(files.length).toBeGreaterThan(10)

    const problems: string[] = []
    for (const file of files) {
      for (const finding of findHardCodedText(await readFile(file, 'utf8'), file)) {
        problems.push(`${relative(SOURCE_DIR, file)}:${finding.line}: ${finding.text}`)
      }
    }

    expect(problems, 'move these texts into src/locales/zh-CN.ts and en.ts and show them with t()').toEqual([])
  })

  it('keep Chinese text in the catalogues only', async () => {
    const files = (await filesUnder(SOURCE_DIR, '.ts')).filter((file) => !file.includes(`${SOURCE_DIR}/locales/`))
    const problems: string[] = []
    for (const file of files) {
      const lines = (await readFile(file, 'utf8')).split('\n')
      lines.forEach((line, index) => {
        if (/\p{Script=Han}/u.test(line)) problems.push(`${relative(SOURCE_DIR, file)}:${index + 1}: ${line.trim()}`)
      })
    }

    expect(problems).toEqual([])
  })

  it('have no `any` type in the API layer', async () => {
    const problems: string[] = []
    for (const file of await filesUnder(join(SOURCE_DIR, 'api'), '.ts')) {
      const lines = (await readFile(file, 'utf8')).split('\n')
      lines.forEach((line, index) => {
        if (/(:\s*any\b|\bas any\b|<any>|any\[\])/.test(line)) problems.push(`${relative(SOURCE_DIR, file)}:${index + 1}`)
      })
    }

    expect(problems).toEqual([])
  })
})
