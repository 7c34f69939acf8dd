// What the model finds wrong with the rules today, each a fixed sequence of steps that runs in CI as
// it.failing and names its entry in docs/NOTES.md ("Model test: …"). When a gap is closed its test turns
// red ("failing test passed"): make it a plain `it` and delete the note.
import { CUSTOMERS, DELAY, SECOND } from './constants';
import { type Database, postgresDatabase, sqliteDatabase } from './databases';
import { Advance, Ask, BotPenguinWill, Decide, Stall, type Step, Stricter, Sweep } from './steps';
import { oneRun, type Setup } from './world';

const SETUP: Setup = { approvalsRequired: 1, executionDelayMs: DELAY, maxDeletionsPerDay: 1000, dryRun: false };
const [FIRST, SECOND_CUSTOMER] = CUSTOMERS;

/**
 * Runs the steps (then the final sweeps) and throws only with the gap's own violation. Any other outcome
 * returns, which it.failing reports as red: a scenario that no longer reaches its gap is no proof of it.
 */
async function expectGap(run: () => Promise<unknown>, violation: RegExp): Promise<void> {
  let error: unknown = null;
  try {
    await run();
  } catch (e) {
    error = e;
  }
  if (error instanceof Error && violation.test(error.message)) throw error;
  if (error) console.error('the scenario failed, but not with its gap:', error);
}

/** The steps in order, on two engines over an emptied database, then the final sweeps. */
const script = (db: Database, steps: Step[], strictestBindsAll = false) =>
  oneRun(
    db,
    SETUP,
    async (w) => {
      for (const step of steps) await step.run({}, w);
    },
    strictestBindsAll,
  );

const databases: [string, typeof sqliteDatabase][] = [['SQLite', sqliteDatabase]];
const PG_URL = process.env.TEST_DATABASE_URL;
if (PG_URL) databases.push(['PostgreSQL', () => postgresDatabase(PG_URL)]);

describe.each(databases)('known gaps of the rules, on a %s store', (_name, makeDatabase) => {
  const db = makeDatabase();
  afterAll(() => db.teardown());

  const run = (steps: Step[], strictestBindsAll = false) => script(db, steps, strictestBindsAll);

  // An engine that still runs the older settings creates, approves and claims a request after a stricter one
  // started: the DELETE goes out under its own settings.
  it.failing.each([
    ['dry_run', /a real DELETE for R\w+ after a DRY_RUN=true engine started/],
    ['quorum', /a DELETE for R\w+ with 1 valid approvals of 2/],
    ['remove_approver', /a DELETE for R\w+ with 0 valid approvals of 1/],
  ] as const)(
    'NOTES "Model test: stricter settings reach only the requests open when the stricter instance starts" (%s)',
    async (change, violation) => {
      await expectGap(
        () =>
          run(
            [
              new Stricter(0, change),
              new Ask(1, 'U0REQ1', FIRST),
              new Decide('approve', 1, 'U0APP3', 0),
              new Advance(DELAY + SECOND),
              new Sweep(1),
            ],
            true,
          ),
        violation,
      );
    },
  );

  // Closed by issue 16 (a re-send's refusal proves nothing about the start before it): kept as a plain scenario.
  it('closed gap "a late re-send recorded failed": the refused re-send is uncertain, and the first DELETE then settles it', async () => {
    await run([
      new Ask(0, 'U0REQ1', FIRST),
      new Decide('approve', 0, 'U0APP1', 0),
      new Advance(DELAY + SECOND),
      new BotPenguinWill(['reject', 'ok']),
      new Stall(0, true),
    ]);
  });
});

// Only SQLite: this sequence reaches the window through the order in which the two claims' store calls run;
// with PostgreSQL's round trips in between it does not.
describe('known gaps of the rules, on a SQLite store, in-process interleaving', () => {
  const db = sqliteDatabase();
  afterAll(() => db.teardown());
  const run = (steps: Step[]) => script(db, steps);

  it.failing('NOTES "Model test: an executor that stalls … while holding a claim": stalled with two DELETEs claimed, it wakes and sends one another engine has finished', async () => {
    await expectGap(
      () =>
        run([
          new Ask(0, 'U0REQ1', FIRST),
          new Ask(0, 'U0REQ2', SECOND_CUSTOMER),
          new Decide('approve', 0, 'U0APP1', 0),
          new Decide('approve', 0, 'U0APP1', 1),
          new Advance(DELAY + SECOND),
          new Stall(0, false, true),
        ]),
      /DELETE of \w+ while 0 of its requests are executing/,
    );
  });
});
