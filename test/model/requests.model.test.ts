// A model-based test of the rules (fast-check commands): random sequences of requests, approvals, denials,
// cancels, aborts, expiries, pauses, stricter settings, clock steps, sweeps, restarts, crashes and stalls
// mid-DELETE and BotPenguin's answers, run by TWO rule engines on ONE store (SQLite; PostgreSQL too when
// TEST_DATABASE_URL is set). After every step the guarantees of docs/DESIGN.md §5, §8 and §9 are checked
// against what the fake BotPenguin saw (world.ts). MODEL_RUNS=5000 runs it longer; MODEL_SEED, MODEL_PATH
// and MODEL_REPLAY replay a failure; MODEL_STATS=1 says what the runs saw. The cases the rules get wrong
// today are in known-gaps.model.test.ts.
import fc from 'fast-check';
import type { DeletionRequest } from '../../src/requests/types';
import { type Database, postgresDatabase, sqliteDatabase } from './databases';
import { setups, steps } from './steps';
import { oneRun, type World } from './world';

const PG_URL = process.env.TEST_DATABASE_URL;
/** Runs per database; MODEL_RUNS overrides. */
const RUNS = Number(process.env.MODEL_RUNS) || 0;

/** MODEL_STATS=1: how the runs ended, and how many DELETEs, lost answers and re-sends they saw. */
const STATS: Record<string, number> = {};
afterAll(() => {
  if (process.env.MODEL_STATS) console.log(STATS);
});
function tally(w: World, all: DeletionRequest[]): void {
  const add = (key: string, n = 1) => {
    STATS[key] = (STATS[key] ?? 0) + n;
  };
  for (const r of all) add(`${r.state}${r.outcome ? ` (${r.outcome.kind})` : ''}`);
  add('DELETEs sent', w.calls.length);
  add('DELETEs whose answer was lost', w.calls.filter((c) => c.lost).length);
  add('requests re-sent', all.filter((r) => r.deleteStarts > 1).length);
}

async function runModel(db: Database, numRuns: number): Promise<void> {
  await fc.assert(
    fc.asyncProperty(
      setups,
      fc.commands(steps, { maxCommands: 40, size: 'medium', replayPath: process.env.MODEL_REPLAY }),
      async (setup, commands) => {
        const { world, requests } = await oneRun(db, setup, (w) =>
          fc.asyncModelRun(() => ({ model: {}, real: w }), commands),
        );
        if (process.env.MODEL_STATS) tally(world, requests);
      },
    ),
    // A failure prints its seed, path and replayPath: MODEL_SEED=… MODEL_PATH=… MODEL_REPLAY=… replay it.
    { numRuns, seed: Number(process.env.MODEL_SEED) || undefined, path: process.env.MODEL_PATH },
  );
}

const databases: [string, () => Database, number][] = [['SQLite', sqliteDatabase, 200]];
if (PG_URL) databases.push(['PostgreSQL', () => postgresDatabase(PG_URL), 30]);

describe.each(databases)('two engines on one %s store, driven at random', (_name, makeDatabase, runs) => {
  const db = makeDatabase();
  afterAll(() => db.teardown());

  it('keep every guarantee after every step, and bring every request to a final state', async () => {
    await runModel(db, RUNS || runs);
  }, 600_000);
});
