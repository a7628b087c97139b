// Finds user-visible text written into .vue templates instead of coming from the i18n catalogues.
import { parse } from 'vue/compiler-sfc'

// Attributes whose value Element Plus or the browser shows to users.
export const TEXT_ATTRIBUTES = new Set([
  'alt',
  'aria-label',
  'cancel-button-text',
  'confirm-button-text',
  'content',
  'description',
  'element-loading-text',
  'empty-text',
  'label',
  'placeholder',
  'sub-title',
  'text',
  'title',
])

// Node types of @vue/compiler-core's AST.
const ELEMENT = 1
const TEXT = 2
const INTERPOLATION = 5
const ATTRIBUTE = 6
const DIRECTIVE = 7

const LETTER = /\p{L}/u
const HAN = /\p{Script=Han}/u
// A whole expression that is only a string literal: 'Save', "Save" or `Save` without ${}.
const STRING_LITERAL = /^\s*(?:'[^']*'|"[^"]*"|`[^`$]*`)\s*$/
// i18n calls whose string arguments are catalogue keys.
const I18N_CALL = /\$?\b(?:t|te|tm|rt)\(\s*(?:'[^']*'|"[^"]*"|`[^`]*`)/g
const ANY_STRING = /'[^']*'|"[^"]*"|`[^`]*`/g

export interface Finding {
  line: number
  text: string
}

interface Node {
  type: number
  content?: string | { content?: string }
  children?: Node[]
  props?: Node[]
  name?: string
  value?: { content: string } | undefined
  arg?: { content?: string } | undefined
  exp?: { content?: string } | undefined
  loc: { start: { line: number }; source: string }
}

function literalHasLetters(expression: string): boolean {
  return STRING_LITERAL.test(expression) && LETTER.test(expression)
}

/** Return string literals with Chinese characters that are not i18n keys passed to t(). */
function chineseLiterals(expression: string): string[] {
  const withoutKeys = expression.replace(I18N_CALL, '')
  return (withoutKeys.match(ANY_STRING) ?? []).filter((literal) => HAN.test(literal))
}

function checkExpression(expression: string, shown: boolean, node: Node, findings: Finding[]): void {
  if (shown && literalHasLetters(expression)) {
    findings.push({ line: node.loc.start.line, text: node.loc.source })
    return
  }
  for (const literal of chineseLiterals(expression)) findings.push({ line: node.loc.start.line, text: literal })
}

function visit(node: Node, findings: Finding[]): void {
  if (node.type === TEXT && typeof node.content === 'string' && LETTER.test(node.content)) {
    findings.push({ line: node.loc.start.line, text: node.content.trim() })
  }
  if (node.type === INTERPOLATION && typeof node.content === 'object') {
    checkExpression(node.content.content ?? '', true, node, findings)
  }
  if (node.type === ELEMENT) {
    for (const prop of node.props ?? []) {
      if (prop.type === ATTRIBUTE && prop.name && prop.value) {
        const shown = TEXT_ATTRIBUTES.has(prop.name) && LETTER.test(prop.value.content)
        if (shown || HAN.test(prop.value.content)) findings.push({ line: prop.loc.start.line, text: prop.loc.source })
      }
      if (prop.type === DIRECTIVE && prop.exp?.content) {
        const shown = prop.name === 'bind' && TEXT_ATTRIBUTES.has(prop.arg?.content ?? '')
        checkExpression(prop.exp.content, shown, prop, findings)
      }
    }
  }
  for (const child of node.children ?? []) visit(child, findings)
}

/** Return the hard-coded user-visible texts in the template of the single-file component `source`. */
export function findHardCodedText(source: string, filename = 'component.vue'): Finding[] {
  const { descriptor, errors } = parse(source, { filename })
  if (errors.length > 0) throw new Error(`${filename} does not parse: ${errors.map(String).join('; ')}`)
  const findings: Finding[] = []
  if (descriptor.template?.ast) visit(descriptor.template.ast as unknown as Node, findings)
  return findings
}
