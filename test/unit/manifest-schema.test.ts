// manifest.yml must be a manifest Slack accepts, asking for the least scopes the bot needs. It is checked against
// Slack's own JSON Schema for app manifests, vendored unmodified from slackapi/manifest-schema (MIT) in
// test/fixtures/slack-manifest-schema/, whose README names the commit, the paths and the license.
//
// The validator is zod's z.fromJSONSchema (zod is already a dependency; Ajv is not installed). zod calls it
// semi-experimental, so before trusting it with our manifest this file shows that it agrees with Slack's own
// tests of the schema and that it enforces each kind of rule the schema puts on our manifest.
import fs from 'node:fs';
import path from 'node:path';
import type { webApi } from '@slack/bolt';
import { z } from 'zod';

type Manifest = webApi.AppsManifestCreateArguments['manifest'];

// js-yaml is not a dependency of ours: it is installed as jest's (through @istanbuljs/load-nyc-config), in major
// version 3, without types. CORE_SCHEMA is YAML 1.2's core schema (no custom tags) in both version 3 and 4.
const yaml = require('js-yaml') as {
  load(text: string, options: { schema: unknown }): unknown;
  CORE_SCHEMA: unknown;
};

const ROOT = path.join(__dirname, '..', '..');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'slack-manifest-schema');
const readJson = (file: string): unknown => JSON.parse(fs.readFileSync(path.join(FIXTURES, file), 'utf8'));

const slackSchema = z.fromJSONSchema(readJson('manifest.schema.1.0.0.json') as z.core.JSONSchema.JSONSchema);
const ours = yaml.load(fs.readFileSync(path.join(ROOT, 'manifest.yml'), 'utf8'), { schema: yaml.CORE_SCHEMA });

/** Slack's schema's complaints about `manifest` as "path: message", none when it is valid. */
function complaints(manifest: unknown): string[] {
  const result = slackSchema.safeParse(manifest);
  return result.success ? [] : result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
}

/** A copy of our manifest changed by `change`. */
function broken(change: (copy: Manifest) => void): Manifest {
  const copy = structuredClone(ours) as Manifest;
  change(copy);
  return copy;
}

describe("Slack's app manifest schema", () => {
  it("agrees with Slack's own tests: their valid example passes, with and without _metadata, their invalid one fails", () => {
    const valid = readJson('manifest.valid.json') as Record<string, unknown>;
    expect(complaints(valid)).toEqual([]);
    const { _metadata, ...withoutMetadata } = valid;
    expect(_metadata).toBeDefined();
    expect(complaints(withoutMetadata)).toEqual([]);
    // The one thing wrong with Slack's invalid example is `settings.bad_param`.
    expect(complaints(readJson('manifest.invalid.json'))).toEqual([expect.stringMatching(/^settings: .*bad_param/)]);
  });

  it('is the schema Slack picks for our manifest (no _metadata, or major version 1)', () => {
    // manifest.schema.json upstream sends a manifest to the 1.0.0 schema exactly when this holds.
    const metadata = (ours as Manifest)._metadata;
    expect(metadata === undefined || metadata.major_version === undefined || metadata.major_version === 1).toBe(true);
  });

  it('accepts manifest.yml', () => {
    expect(complaints(ours)).toEqual([]);
  });

  it.each<[string, (copy: Manifest) => void, RegExp]>([
    [
      'an unknown key at the top',
      (copy) => {
        copy.bot_scopes = ['chat:write'];
      },
      /^: .*bot_scopes/,
    ],
    [
      'an unknown key deep inside (a misspelt setting)',
      (copy) => {
        Object.assign(copy.features?.bot_user ?? {}, { always_onlin: true });
      },
      /^features\.bot_user: .*always_onlin/,
    ],
    [
      'a string where a boolean belongs',
      (copy) => {
        Object.assign(copy.settings ?? {}, { socket_mode_enabled: 'true' });
      },
      /^settings\.socket_mode_enabled: .*boolean/,
    ],
    [
      'a missing required key',
      (copy) => {
        Reflect.deleteProperty(copy.features?.slash_commands?.[0] ?? {}, 'description');
      },
      /^features\.slash_commands\.0\.description: /,
    ],
    [
      'a slash command without its slash',
      (copy) => {
        Object.assign(copy.features?.slash_commands?.[0] ?? {}, { command: 'bp-delete' });
      },
      /^features\.slash_commands\.0\.command: .*pattern/,
    ],
    [
      'a long description shorter than Slack allows',
      (copy) => {
        copy.display_information.long_description = 'Deletes BotPenguin customers.';
      },
      /^display_information\.long_description: .*175/,
    ],
    [
      'an event subscribed twice',
      (copy) => {
        copy.settings = {
          ...copy.settings,
          event_subscriptions: { bot_events: ['app_home_opened', 'app_home_opened'] },
        };
      },
      /^settings\.event_subscriptions\.bot_events\.1: .*unique/,
    ],
  ])('rejects a copy of manifest.yml with %s', (_what, change, complaint) => {
    expect(complaints(broken(change))).toEqual([expect.stringMatching(complaint)]);
  });
});

describe('the least scopes', () => {
  const manifest = ours as Manifest;
  const scopes = manifest.oauth_config?.scopes ?? {};

  it('asks only for the bot scopes the bot uses', () => {
    // commands: the slash command. chat:write: the approval message, its thread, updates in place, ephemeral
    // answers, and the requester's direct messages. usergroups:read: members of the approver and requester groups.
    expect([...(scopes.bot ?? [])].sort()).toEqual(['chat:write', 'commands', 'usergroups:read']);
    // Direct messages go to the user id, into the app's Messages tab, so no conversations.open (im:write); the bot
    // never reads a channel (channels:history).
    expect(scopes.bot).not.toContain('im:write');
    expect(scopes.bot).not.toContain('channels:history');
  });

  it('asks for no user scopes and no optional ones', () => {
    expect(scopes.user ?? []).toEqual([]);
    expect(scopes.user_optional ?? []).toEqual([]);
    expect(scopes.bot_optional ?? []).toEqual([]);
  });

  it("keeps the Messages tab on, which the requester's direct messages need without im:write", () => {
    expect(manifest.features?.app_home?.messages_tab_enabled).toBe(true);
  });

  it('subscribes to no event that needs a scope, and to app_home_opened exactly when the Home tab is on', () => {
    // app_home_opened needs no scope (only a bot user), nor does views.publish, which answers it.
    const events = manifest.settings?.event_subscriptions?.bot_events ?? [];
    expect(events.filter((event) => event !== 'app_home_opened')).toEqual([]);
    expect(manifest.settings?.event_subscriptions?.user_events ?? []).toEqual([]);
    expect(events.includes('app_home_opened')).toBe(manifest.features?.app_home?.home_tab_enabled === true);
  });
});
