// The moments a crash could lose something, named so that a caller of main() can act at each one (the
// process tests kill the bot there). The bot itself never acts on them: with no hook, nothing happens.

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
