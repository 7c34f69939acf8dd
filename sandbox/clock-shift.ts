// A process-wide clock offset for the process tests, loaded with `node --require` before the bot: Date.now()
// and `new Date()` run BP_DELETE_TEST_CLOCK_SHIFT_MS milliseconds ahead (or behind, when negative), as on a
// machine whose clock is off. Timers and the database's clock are untouched. Only sandbox code reads it.
const shift = Number(process.env.BP_DELETE_TEST_CLOCK_SHIFT_MS ?? '0');

if (Number.isFinite(shift) && shift !== 0) {
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  class ShiftedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(realNow() + shift);
      else super(...(args as [string | number | Date]));
    }

    static override now(): number {
      return realNow() + shift;
    }
  }
  globalThis.Date = ShiftedDate as DateConstructor;
}
