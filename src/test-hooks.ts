// Test-only hooks for the process-level crash tests (test/integration/processes/). Production never sets
// any BP_DELETE_TEST_* variable; unset, every hook here does nothing.
//
//   BP_DELETE_TEST_CRASH_AT         the name of one crash point below: the process kills itself with SIGKILL
//                                   when it gets there, as a crash or an OOM kill would (no cleanup runs).
//   BP_DELETE_TEST_LEASE_MS         execution lease (default 15 s), so recovery after a crash takes ~1 s.
//   BP_DELETE_TEST_SWEEP_MS         sweeper period (default 5 s).
//   BP_DELETE_TEST_SYNC_CLAIM_MS    how long a message sync may hold a request (default 60 s).

/** The moments a crash could lose something, in the order a request passes them. */
export const CRASH_POINTS = [
  /** The request is in the store; its Slack message is not posted yet. */
  'after-request-stored',
  /** The last approval is recorded (state approved); the DELETE is not claimed or sent yet. */
  'after-approval',
  /** BotPenguin answered the DELETE; the answer is not recorded yet (the request is still executing). */
  'after-delete-answered',
  /** The DELETE's outcome is recorded; the Slack message does not show it yet. */
  'after-delete-recorded',
] as const;

export type CrashPoint = (typeof CRASH_POINTS)[number];

/** Die here, at once and without cleanup, when the test environment asks for it. */
export function crashPoint(name: CrashPoint): void {
  if (process.env.BP_DELETE_TEST_CRASH_AT !== name) return;
  process.stderr.write(`bp-delete: BP_DELETE_TEST_CRASH_AT=${name} reached; killing this process\n`);
  process.kill(process.pid, 'SIGKILL');
}

export interface TestTimings {
  leaseMs?: number;
  sweepIntervalMs?: number;
  syncClaimMs?: number;
}

/** The BP_DELETE_TEST_* timing overrides that are set (positive integers; anything else is ignored). */
export function testTimings(env: NodeJS.ProcessEnv): TestTimings {
  const read = (name: string) => {
    const n = Number(env[name]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const timings: TestTimings = {};
  const leaseMs = read('BP_DELETE_TEST_LEASE_MS');
  const sweepIntervalMs = read('BP_DELETE_TEST_SWEEP_MS');
  const syncClaimMs = read('BP_DELETE_TEST_SYNC_CLAIM_MS');
  if (leaseMs !== undefined) timings.leaseMs = leaseMs;
  if (sweepIntervalMs !== undefined) timings.sweepIntervalMs = sweepIntervalMs;
  if (syncClaimMs !== undefined) timings.syncClaimMs = syncClaimMs;
  return timings;
}
