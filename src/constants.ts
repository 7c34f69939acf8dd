// Every id Slack sees from us, in one place.
export const COMMAND = '/bp-delete';

export const ACTION_APPROVE = 'bp_delete_approve';
export const ACTION_DENY = 'bp_delete_deny';
export const ACTION_CANCEL = 'bp_delete_cancel';
export const ACTION_ABORT = 'bp_delete_abort';

export const VIEW_DENY_REASON = 'bp_delete_deny_reason';
export const BLOCK_DENY_REASON = 'deny_reason';
export const INPUT_DENY_REASON = 'reason';

/**
 * A Home tab lists many requests, and Slack wants each action_id once per view: there the Approve and Deny
 * buttons carry the request id after the action's own id (`bp_delete_approve.home.<id>`). MESSAGE_OR_HOME
 * matches the button on either, so one listener serves both (Bolt runs every listener's matchers for every
 * request). The button's value is the request id, as on the message; only the value is read.
 */
export const homeActionId = (actionId: string, requestId: string) => `${actionId}.home.${requestId}`;
export const MESSAGE_OR_HOME = (actionId: string) => new RegExp(`^${actionId}(?:\\.home\\.[A-Za-z0-9]{1,64})?$`);
