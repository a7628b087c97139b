export const DOCUMENT_PATH: string
export const SCHEMA_PATH: string
export function renderSchema(documentPath?: string): Promise<string>
