// The bot's entry for the process tests (test/integration/processes/): the real main(), with the test
// timings and a crash at a chosen checkpoint, read from BP_DELETE_TEST_* variables. Only sandbox/ reads
// them (this file, and clock-shift.ts for its one variable); the shipped entry (src/main.ts) knows none of them.
//
//   BP_DELETE_TEST_CRASH_AT         a checkpoint (src/checkpoints.ts): the process kills itself with SIGKILL
//                                   when it gets there, as a crash or an OOM kill would (no cleanup runs).
//   BP_DELETE_TEST_LEASE_MS         execution lease (default 15 s), so recovery after a crash takes ~1 s.
//   BP_DELETE_TEST_SWEEP_MS         sweeper period (default 5 s).
//   BP_DELETE_TEST_SYNC_CLAIM_MS    how long a message sync may hold a request (default 60 s).
//   BP_DELETE_TEST_AUDIT_LEASE_MS   how long the audit webhook's deliveries stay leased (default 60 s).
//   BP_DELETE_TEST_CLOCK_SHIFT_MS   read by sandbox/clock-shift.ts (loaded with `node --require`), not here:
//                                   moves the process's Date by that much, as on a machine whose clock is off.
import { type Checkpoint, type CheckpointHook, setCheckpointHook } from '../src/checkpoints';
import { type MainOptions, main } from '../src/main';

// A record, so the compiler tells us when a checkpoint is added or renamed.
const CHECKPOINTS: Record<Checkpoint, true> = {
  'after-request-stored': true,
  'after-approval': true,
  'after-delete-answered': true,
  'after-delete-recorded': true,
};

const isCheckpoint = (name: string): name is Checkpoint => Object.hasOwn(CHECKPOINTS, name);

/** main()'s options from the environment: the timings that are set (positive integers). */
export function testOptions(env: NodeJS.ProcessEnv): MainOptions {
  const read = (name: string) => {
    const n = Number(env[name]);
    return Number.isInteger(n) && n > 0 ? n : undefined;
  };
  const options: MainOptions = {};
  const leaseMs = read('BP_DELETE_TEST_LEASE_MS');
  const sweepIntervalMs = read('BP_DELETE_TEST_SWEEP_MS');
  const syncClaimMs = read('BP_DELETE_TEST_SYNC_CLAIM_MS');
  if (leaseMs !== undefined) options.leaseMs = leaseMs;
  if (sweepIntervalMs !== undefined) options.sweepIntervalMs = sweepIntervalMs;
  if (syncClaimMs !== undefined) options.syncClaimMs = syncClaimMs;
  const auditLeaseMs = read('BP_DELETE_TEST_AUDIT_LEASE_MS');
  if (auditLeaseMs !== undefined) options.auditLeaseMs = auditLeaseMs;
  return options;
}

/** The crash at BP_DELETE_TEST_CRASH_AT, as a checkpoint hook; null when none is asked for. */
export function crashHook(env: NodeJS.ProcessEnv): CheckpointHook | null {
  const crashAt = env.BP_DELETE_TEST_CRASH_AT;
  if (!crashAt) return null;
  // A misspelt point would never be reached; say so instead of running a test that can't crash.
  if (!isCheckpoint(crashAt)) throw new Error(`BP_DELETE_TEST_CRASH_AT=${crashAt} is not a checkpoint`);
  return (point) => {
    if (point !== crashAt) return;
    process.stderr.write(`bp-delete: BP_DELETE_TEST_CRASH_AT=${point} reached; killing this process\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}

if (require.main === module) {
  Promise.resolve()
    .then(() => {
      setCheckpointHook(crashHook(process.env));
      return main(testOptions(process.env));
    })
    .catch((error: unknown) => {
      process.stderr.write(`bp-delete failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exit(1);
    });
}
