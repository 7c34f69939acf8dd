// Every id Slack sees from us, in one place.
export const COMMAND = '/bp-delete';

export const ACTION_APPROVE = 'bp_delete_approve';
export const ACTION_DENY = 'bp_delete_deny';
export const ACTION_CANCEL = 'bp_delete_cancel';
export const ACTION_ABORT = 'bp_delete_abort';

export const VIEW_DENY_REASON = 'bp_delete_deny_reason';
export const BLOCK_DENY_REASON = 'deny_reason';
export const INPUT_DENY_REASON = 'reason';
