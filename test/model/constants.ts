// The model test's cast and settings: who acts, which customers exist, the short delays and leases.
import type { Actor } from '../../src/requests/types';

const TEAM = 'T0TEAM';
const CHANNEL = 'C0OPS';
const REQUESTERS = ['U0REQ1', 'U0REQ2'];
export const APPROVERS = ['U0APP1', 'U0APP2', 'U0APP3'];
const OUTSIDER = 'U0OUTSIDER';
export const USERS = [...REQUESTERS, ...APPROVERS, OUTSIDER];
/** Who asks: two plain requesters, and an approver (who then may not approve their own request). */
export const ASKERS = [REQUESTERS[0], REQUESTERS[1], APPROVERS[0]];
/** Three customers BotPenguin has, and one it never had. */
export const KNOWN = ['64b7f0c2e4b0a1b2c3d4e501', '64b7f0c2e4b0a1b2c3d4e502', '64b7f0c2e4b0a1b2c3d4e503'];
export const CUSTOMERS = [...KNOWN, '64b7f0c2e4b0a1b2c3d4e5ff'];

export const SECOND = 1_000;
export const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
export const TTL = HOUR;
/**
 * Short, so that where leases and due times are on the database's own clock (PostgreSQL) a step that moves
 * time past them waits for real only that long. The executor renews a lease every LEASE / 3 of real time,
 * but only while a DELETE is under way, and no step leaves one under way (a dead engine renews nothing).
 */
export const DELAY = 200;
export const LEASE = 400;
/** Where the store reads the injected clock (SQLite): a fixed day, mid-day UTC. */
export const START = Date.UTC(2025, 0, 15, 12);

export const actor = (userId: string): Actor => ({ userId, teamId: TEAM, channelId: CHANNEL });
export const NO_GROUPS = { usergroupMembers: async () => new Set<string>() };
