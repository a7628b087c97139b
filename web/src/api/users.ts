import { exportUrl, type ExportQuery } from './exportUrl'
import { call, callEmpty, client } from './http'
import type { components } from './schema'

export type Account = components['schemas']['AccountOut']
export type AccountCreate = components['schemas']['UserCreateIn']
export type AccountChanges = components['schemas']['UserPatchIn']
export type Role = components['schemas']['Role']
/** Group name -> usernames of its members. */
export type Groups = Record<string, string[]>
/** The filters of the user list: part of a username, display name or group name, and a role. */
export type UserFilter = ExportQuery<'/api/v1/users/export.csv'>

export const ROLES: readonly Role[] = ['editor', 'checker', 'manager', 'admin']

// The server's limits (src/taskdash/api/users.py and src/taskdash/accounts/users.py).
export const MAX_NAME_LENGTH = 64
export const MIN_PASSWORD_LENGTH = 8
export const MAX_PASSWORD_LENGTH = 1024
export const MAX_DISPLAY_NAME_LENGTH = 128
/** Usernames and group names: 1 to 64 ASCII letters, digits or `_ . @ -` (USERNAME_PATTERN on the server). */
export const NAME_PATTERN = /^[A-Za-z0-9_.@-]{1,64}$/

export function listUsers(): Promise<Account[]> {
  return call(client.GET('/api/v1/users'))
}

export function getUser(username: string): Promise<Account> {
  return call(client.GET('/api/v1/users/{username}', { params: { path: { username } } }))
}

export function createUser(account: AccountCreate): Promise<Account> {
  return call(client.POST('/api/v1/users', { body: account }))
}

/** Change only the fields given in `changes`; disabling a user also logs them out everywhere. */
export function updateUser(username: string, changes: AccountChanges): Promise<Account> {
  return call(client.PATCH('/api/v1/users/{username}', { params: { path: { username } }, body: changes }))
}

/** Set a new password; the server logs the user out everywhere. */
export function resetPassword(username: string, password: string): Promise<void> {
  return callEmpty(client.POST('/api/v1/users/{username}/password', { params: { path: { username } }, body: { password } }))
}

export function listGroups(): Promise<Groups> {
  return call(client.GET('/api/v1/groups'))
}

/** Return the URL of the CSV export of the users that `filter` selects. */
export function exportUsersUrl(filter: UserFilter): string {
  return exportUrl('/api/v1/users/export.csv', filter)
}

/** Return the URL of the CSV export of the groups whose name or a member's username contains `text`. */
export function exportGroupsUrl(text: string): string {
  return exportUrl('/api/v1/groups/export.csv', { text })
}
