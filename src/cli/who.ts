/** Who is at the command line, as the fleet records it (pauses, `once`, triggers): `user@host`. */
import { hostname, userInfo } from 'node:os';

export function whoAmI(): string {
  let user: string;
  try {
    user = userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.LOGNAME ?? 'unknown';
  }
  return `${user || 'unknown'}@${hostname()}`;
}
