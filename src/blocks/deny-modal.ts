import type { types } from '@slack/bolt';
import { BLOCK_DENY_REASON, INPUT_DENY_REASON, VIEW_DENY_REASON } from '../constants';
import type { DeletionRequest } from '../requests/types';
import { safeMrkdwn } from './text';

export interface DenyModalMetadata {
  requestId: string;
  channelId: string;
}

export function renderDenyModal(request: DeletionRequest): types.View {
  const metadata: DenyModalMetadata = { requestId: request.id, channelId: request.channelId };
  return {
    type: 'modal',
    callback_id: VIEW_DENY_REASON,
    // Slack then sends view_closed when it is closed without denying, which releases the Deny's hold.
    notify_on_close: true,
    private_metadata: JSON.stringify(metadata),
    title: { type: 'plain_text', text: 'Deny deletion' },
    submit: { type: 'plain_text', text: 'Deny' },
    close: { type: 'plain_text', text: 'Back' },
    blocks: [
      {
        type: 'section',
        block_id: 'summary',
        text: {
          type: 'mrkdwn',
          text: `Deny the request \`${request.id}\` to delete customer \`${safeMrkdwn(request.customerId, 80)}\`? Nothing will be deleted.`,
        },
      },
      {
        type: 'input',
        block_id: BLOCK_DENY_REASON,
        optional: true,
        label: { type: 'plain_text', text: 'Reason (shown in the channel)' },
        element: {
          type: 'plain_text_input',
          action_id: INPUT_DENY_REASON,
          multiline: true,
          max_length: 1000,
        },
      },
    ],
  };
}
