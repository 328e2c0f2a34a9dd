// Who is writing: the name the apply lock and each written version carry. Read here, in cmd/,
// from the environment; the engine is handed the name.

import { hostname, userInfo } from 'node:os';

/**
 * Who is writing, for the apply lock and the versions it writes: ORGLOOP_WHO as given (CI names
 * its job), else the login name at this host.
 */
export function whoAmI(): string {
  if (process.env.ORGLOOP_WHO) return process.env.ORGLOOP_WHO;
  let user = process.env.USER ?? process.env.USERNAME;
  if (!user) {
    try {
      user = userInfo().username;
    } catch {
      user = 'unknown';
    }
  }
  return `${user}@${hostname()}`;
}
