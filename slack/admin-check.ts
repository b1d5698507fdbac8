import { LRUCache } from 'lru-cache';
import type { SlackClient } from './slack-types.ts';

/** Whether Slack counts a member as an admin or owner of the workspace, remembered for a minute. */
export interface AdminCheck {
  isAdmin(client: SlackClient, userId: string): Promise<boolean>;
}

export function adminCheck(ttlMs = 60_000): AdminCheck {
  // Bounded as well as timed, so a workspace of many members cannot grow it without end.
  const cache = new LRUCache<string, boolean>({ max: 10_000, ttl: ttlMs });
  return {
    async isAdmin(client, userId) {
      const hit = cache.get(userId);
      if (hit !== undefined) return hit;
      const { user } = await client.users.info({ user: userId });
      const admin = user?.is_admin === true || user?.is_owner === true;
      cache.set(userId, admin);
      return admin;
    },
  };
}
