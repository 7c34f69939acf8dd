// Where a target's CPU time went, from a V8 .cpuprofile (node --cpu-prof): self time by package, the
// hottest functions, and the inclusive time of our own functions. Also runnable on its own:
//   node dist/dev/tools/bench/profile-summary.js bench-results/profiles/bot.cpuprofile
import fs from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

function category(url: string, repo: string): string {
  if (url === '') return '(native/V8)';
  if (url.startsWith('node:')) return 'node internals';
  const file = url.replace(/^file:\/\//, '');
  const modules = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
  if (modules) return modules[1] ?? 'node_modules';
  if (file.startsWith(repo))
    return `ours: ${path
      .relative(repo, file)
      .replace(/^dist\/dev\//, '')
      .split('/')
      .slice(0, 2)
      .join('/')}`;
  return file;
}

const where = (node: ProfileNode, repo: string) => {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url
    .replace(/^file:\/\//, '')
    .replace(`${repo}/`, '')
    .replace(/^.*node_modules\//, '');
  return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
};

export function summarizeProfile(file: string, label: string, repo: string, top = 12): string {
  const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);

  const self = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...self.values()].reduce((a, b) => a + b, 0);
  const idleUs = [...self.entries()]
    .filter(([id]) => byId.get(id)?.callFrame.functionName === '(idle)')
    .reduce((a, [, us]) => a + us, 0);
  const busyUs = totalUs - idleUs;

  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const oursInclusive = new Map<string, number>();
  for (const [id, us] of self) {
    const node = byId.get(id);
    if (!node || node.callFrame.functionName === '(idle)') continue;
    const special = node.callFrame.functionName.startsWith('(') ? node.callFrame.functionName : null;
    const cat = special ?? category(node.callFrame.url, repo);
    byCategory.set(cat, (byCategory.get(cat) ?? 0) + us);
    const fn = where(node, repo);
    byFunction.set(fn, (byFunction.get(fn) ?? 0) + us);
    // Inclusive time of our own functions: each counted once per sample stack.
    const seen = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at);
      if (!frame) break;
      const url = frame.callFrame.url.replace(/^file:\/\//, '');
      if (url.startsWith(repo) && !url.includes('node_modules') && !url.includes('/tools/')) {
        const name = where(frame, repo);
        if (!seen.has(name)) {
          seen.add(name);
          oursInclusive.set(name, (oursInclusive.get(name) ?? 0) + us);
        }
      }
    }
  }
  const pct = (us: number) => `${((us / Math.max(1, busyUs)) * 100).toFixed(1).padStart(5)}%`;
  const ms = (us: number) => `${(us / 1000).toFixed(0).padStart(6)} ms`;
  const list = (map: Map<string, number>, n: number) =>
    [...map.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, n)
      .map(([name, us]) => `    ${ms(us)} ${pct(us)}  ${name}`);
  return [
    `CPU profile of ${label}: ${(busyUs / 1000).toFixed(0)} ms busy of ${(totalUs / 1000).toFixed(0)} ms sampled`,
    '  self time by package:',
    ...list(byCategory, top),
    '  hottest functions (self time):',
    ...list(byFunction, top),
    '  our functions (inclusive time):',
    ...list(oursInclusive, top),
  ].join('\n');
}

if (require.main === module) {
  const repo = path.resolve(__dirname, '../../../..');
  for (const file of process.argv.slice(2))
    process.stdout.write(`${summarizeProfile(file, path.basename(file), repo, 20)}\n\n`);
}
