// Slack's documented Block Kit limits, checked by the fake Slack so that what real Slack would refuse
// (`invalid_blocks`) is refused in the sandbox too. Sources, Block Kit reference (docs.slack.dev):
//   reference/block-kit/blocks            (50 blocks in a message, 100 in a modal; block_id ≤ 255, unique)
//   reference/block-kit/blocks/section-block   (text ≤ 3000, ≤ 10 fields of ≤ 2000)
//   reference/block-kit/blocks/header-block    (plain_text ≤ 150)
//   reference/block-kit/blocks/context-block   (≤ 10 elements)
//   reference/block-kit/blocks/actions-block   (≤ 25 elements)
//   reference/block-kit/blocks/input-block     (label and hint ≤ 2000)
//   reference/block-kit/block-elements/button-element (text ≤ 75, value ≤ 2000, url ≤ 3000, action_id ≤ 255)
//   reference/block-kit/block-elements/plain-text-input-element (max_length ≤ 3000, placeholder ≤ 150)
//   reference/block-kit/composition-objects/confirmation-dialog-object (title ≤ 100, text ≤ 300, confirm/deny ≤ 30)
//   reference/views (modal title, submit, close ≤ 24; callback_id ≤ 255; private_metadata ≤ 3000;
//                    a modal or a Home tab holds up to 100 blocks)
//   reference/methods/chat.postMessage (text: "truncated after 40,000 characters"; error `msg_too_long`)
// Within one message or view, action_ids must be unique too (Slack answers `invalid_blocks`).

export const LIMITS = {
  messageBlocks: 50,
  modalBlocks: 100,
  homeBlocks: 100,
  blockId: 255,
  actionId: 255,
  sectionText: 3000,
  sectionFields: 10,
  sectionField: 2000,
  headerText: 150,
  contextElements: 10,
  actionsElements: 25,
  buttonText: 75,
  buttonValue: 2000,
  buttonUrl: 3000,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  modalTitle: 24,
  modalButton: 24,
  callbackId: 255,
  privateMetadata: 3000,
  inputLabel: 2000,
  inputHint: 2000,
  inputMaxLength: 3000,
  placeholder: 150,
  messageText: 40_000,
} as const;

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  readonly errors: string[] = [];
  private readonly blockIds = new Set<string>();
  private readonly actionIds = new Set<string>();

  fail(where: string, message: string): void {
    this.errors.push(`${message} [json-pointer:${where}]`);
  }

  /** A text object: `plain_text` (or `mrkdwn` where allowed), 1..max characters. */
  text(where: string, value: unknown, max: number, { plainOnly = false } = {}): void {
    if (!isObj(value)) {
      this.fail(where, 'must be a text object');
      return;
    }
    const types = plainOnly ? ['plain_text'] : ['plain_text', 'mrkdwn'];
    if (!types.includes(String(value.type))) {
      this.fail(`${where}/type`, `must be one of ${types.join(', ')}`);
      return;
    }
    if (typeof value.text !== 'string' || value.text.length === 0) {
      this.fail(`${where}/text`, 'must be more than 0 characters');
      return;
    }
    if (value.text.length > max) this.fail(`${where}/text`, `must be less than ${max + 1} characters`);
  }

  length(where: string, value: unknown, max: number, { required = false } = {}): void {
    if (value === undefined && !required) return;
    if (typeof value !== 'string') {
      this.fail(where, 'must be a string');
      return;
    }
    if (value.length > max) this.fail(where, `must be less than ${max + 1} characters`);
  }

  blockId(where: string, id: unknown): void {
    if (id === undefined) return;
    this.length(where, id, LIMITS.blockId);
    if (typeof id !== 'string') return;
    if (this.blockIds.has(id)) this.fail(where, `block_id "${id}" already exists`);
    this.blockIds.add(id);
  }

  actionId(where: string, id: unknown): void {
    if (id === undefined) return;
    this.length(where, id, LIMITS.actionId);
    if (typeof id !== 'string') return;
    if (this.actionIds.has(id)) this.fail(where, `action_id "${id}" already exists`);
    this.actionIds.add(id);
  }

  confirm(where: string, value: unknown): void {
    if (value === undefined) return;
    if (!isObj(value)) {
      this.fail(where, 'must be a confirmation dialog object');
      return;
    }
    this.text(`${where}/title`, value.title, LIMITS.confirmTitle, { plainOnly: true });
    this.text(`${where}/text`, value.text, LIMITS.confirmText);
    this.text(`${where}/confirm`, value.confirm, LIMITS.confirmButton, { plainOnly: true });
    this.text(`${where}/deny`, value.deny, LIMITS.confirmButton, { plainOnly: true });
  }

  element(where: string, value: unknown): void {
    if (!isObj(value)) {
      this.fail(where, 'must be an element');
      return;
    }
    this.actionId(`${where}/action_id`, value.action_id);
    switch (value.type) {
      case 'button':
        this.text(`${where}/text`, value.text, LIMITS.buttonText, { plainOnly: true });
        this.length(`${where}/value`, value.value, LIMITS.buttonValue);
        this.length(`${where}/url`, value.url, LIMITS.buttonUrl);
        this.confirm(`${where}/confirm`, value.confirm);
        return;
      case 'plain_text_input':
        if (value.max_length !== undefined) {
          if (
            typeof value.max_length !== 'number' ||
            value.max_length < 1 ||
            value.max_length > LIMITS.inputMaxLength
          ) {
            this.fail(`${where}/max_length`, `must be between 1 and ${LIMITS.inputMaxLength}`);
          }
        }
        if (value.placeholder !== undefined) {
          this.text(`${where}/placeholder`, value.placeholder, LIMITS.placeholder, { plainOnly: true });
        }
        return;
      default:
        // Other elements (images, selects…): only the shared checks above; the bot sends none of them.
        return;
    }
  }

  block(where: string, block: unknown): void {
    if (!isObj(block)) {
      this.fail(where, 'must be a block');
      return;
    }
    this.blockId(`${where}/block_id`, block.block_id);
    switch (block.type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined) this.fail(where, 'must provide text or fields');
        if (block.text !== undefined) this.text(`${where}/text`, block.text, LIMITS.sectionText);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields)) {
            this.fail(`${where}/fields`, 'must be an array');
            return;
          }
          if (block.fields.length > LIMITS.sectionFields) {
            this.fail(`${where}/fields`, `must provide no more than ${LIMITS.sectionFields} items`);
          }
          block.fields.forEach((f, i) => {
            this.text(`${where}/fields/${i}`, f, LIMITS.sectionField);
          });
        }
        if (block.accessory !== undefined) this.element(`${where}/accessory`, block.accessory);
        return;
      }
      case 'header': {
        this.text(`${where}/text`, block.text, LIMITS.headerText, { plainOnly: true });
        return;
      }
      case 'context': {
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          this.fail(`${where}/elements`, 'must provide at least 1 item');
          return;
        }
        if (block.elements.length > LIMITS.contextElements) {
          this.fail(`${where}/elements`, `must provide no more than ${LIMITS.contextElements} items`);
        }
        block.elements.forEach((e, i) => {
          if (isObj(e) && (e.type === 'plain_text' || e.type === 'mrkdwn')) {
            this.text(`${where}/elements/${i}`, e, LIMITS.sectionText);
          }
        });
        return;
      }
      case 'actions': {
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          this.fail(`${where}/elements`, 'must provide at least 1 item');
          return;
        }
        if (block.elements.length > LIMITS.actionsElements) {
          this.fail(`${where}/elements`, `must provide no more than ${LIMITS.actionsElements} items`);
        }
        block.elements.forEach((e, i) => {
          this.element(`${where}/elements/${i}`, e);
        });
        return;
      }
      case 'input':
        this.text(`${where}/label`, block.label, LIMITS.inputLabel, { plainOnly: true });
        if (block.hint !== undefined) this.text(`${where}/hint`, block.hint, LIMITS.inputHint, { plainOnly: true });
        {
          this.element(`${where}/element`, block.element);
          return;
        }
      case 'divider':
        return;
      default:
        // Blocks the bot never sends (image, rich_text…) are not checked beyond their block_id.
        return;
    }
  }

  blocks(where: string, blocks: unknown, max: number): void {
    if (!Array.isArray(blocks)) {
      this.fail(where, 'must be an array');
      return;
    }
    if (blocks.length > max) this.fail(where, `must provide no more than ${max} items`);
    blocks.forEach((b, i) => {
      this.block(`${where}/${i}`, b);
    });
  }
}

export type BlockCheck = { ok: true } | { ok: false; error: 'invalid_blocks' | 'msg_too_long'; errors: string[] };

/** A message's `text` and `blocks` (chat.postMessage, chat.update, chat.postEphemeral), as Slack checks them. */
export function checkMessage(args: { text?: unknown; blocks?: unknown }): BlockCheck {
  if (typeof args.text === 'string' && args.text.length > LIMITS.messageText) {
    return { ok: false, error: 'msg_too_long', errors: [`text is longer than ${LIMITS.messageText} characters`] };
  }
  if (args.blocks === undefined) return { ok: true };
  const c = new Checker();
  c.blocks('/blocks', args.blocks, LIMITS.messageBlocks);
  return c.errors.length === 0 ? { ok: true } : { ok: false, error: 'invalid_blocks', errors: c.errors };
}

/** A modal view (views.open and friends). */
export function checkModal(view: unknown): BlockCheck {
  const c = new Checker();
  if (!isObj(view)) {
    c.fail('/view', 'must be a view object');
  } else {
    if (view.type !== 'modal') c.fail('/view/type', 'must be modal');
    c.text('/view/title', view.title, LIMITS.modalTitle, { plainOnly: true });
    if (view.submit !== undefined) c.text('/view/submit', view.submit, LIMITS.modalButton, { plainOnly: true });
    if (view.close !== undefined) c.text('/view/close', view.close, LIMITS.modalButton, { plainOnly: true });
    c.length('/view/callback_id', view.callback_id, LIMITS.callbackId);
    c.length('/view/private_metadata', view.private_metadata, LIMITS.privateMetadata);
    c.blocks('/view/blocks', view.blocks, LIMITS.modalBlocks);
  }
  return c.errors.length === 0 ? { ok: true } : { ok: false, error: 'invalid_blocks', errors: c.errors };
}

/** A Home tab view (views.publish): type `home`, up to 100 blocks, no title or buttons of its own. */
export function checkHomeView(view: unknown): BlockCheck {
  const c = new Checker();
  if (!isObj(view)) {
    c.fail('/view', 'must be a view object');
  } else {
    if (view.type !== 'home') c.fail('/view/type', 'must be home');
    c.length('/view/callback_id', view.callback_id, LIMITS.callbackId);
    c.length('/view/private_metadata', view.private_metadata, LIMITS.privateMetadata);
    c.blocks('/view/blocks', view.blocks, LIMITS.homeBlocks);
  }
  return c.errors.length === 0 ? { ok: true } : { ok: false, error: 'invalid_blocks', errors: c.errors };
}
