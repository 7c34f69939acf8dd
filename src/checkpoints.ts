// The moments a crash could lose something, named so that a caller of main() can act at each one (the
// process tests kill the bot there). The bot itself never acts on them: with no hook set, nothing happens.

/** The checkpoints, in the order a request passes them. */
export type Checkpoint =
  /** The request is in the store; its Slack message is not posted yet. */
  | 'after-request-stored'
  /** The last approval is recorded (state approved); the DELETE is not claimed or sent yet. */
  | 'after-approval'
  /** BotPenguin answered the DELETE; the answer is not recorded yet (the request is still executing). */
  | 'after-delete-answered'
  /** The DELETE's outcome is recorded; the Slack message does not show it yet. */
  | 'after-delete-recorded';

/** Called synchronously at each checkpoint. */
export type CheckpointHook = (point: Checkpoint) => void;

let hook: CheckpointHook | null = null;

/** Set once by the process tests' entry point (sandbox/test-main.ts); the bot itself never sets it. */
export function setCheckpointHook(fn: CheckpointHook | null): void {
  hook = fn;
}

/** Whether a hook is set (main() warns that test-only settings are in effect). */
export const hasCheckpointHook = (): boolean => hook !== null;

/** The request passed `point`: a test's hook may act (kill the process) right here. */
export function checkpoint(point: Checkpoint): void {
  hook?.(point);
}
