// `npm start` runs this first: compile src/ into dist/ only when dist/ is missing or older than a
// source file. On a host that built at deploy time and pruned devDependencies (Heroku runs
// `npm run build`, then removes TypeScript), it does nothing, so starting never needs the compiler.
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'main.js');
const inputs = ['tsconfig.json', 'tsconfig.build.json', 'package.json'].map((f) => path.join(root, f));

function newestSource(dir) {
  let newest = 0;
  for (const item of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, item.name);
    if (item.isDirectory()) newest = Math.max(newest, newestSource(full));
    else if (item.name.endsWith('.ts')) newest = Math.max(newest, fs.statSync(full).mtimeMs);
  }
  return newest;
}

function upToDate() {
  if (!fs.existsSync(entry)) return false;
  const built = fs.statSync(entry).mtimeMs;
  const sources = Math.max(newestSource(path.join(root, 'src')), ...inputs.map((f) => fs.statSync(f).mtimeMs));
  return built >= sources;
}

if (!upToDate()) {
  let tsc;
  try {
    tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  } catch {
    if (fs.existsSync(entry)) {
      console.error('bp-delete: dist/ may be older than src/, and TypeScript is not installed to rebuild it; starting what is built.');
      process.exit(0);
    }
    console.error('bp-delete: dist/ is missing and TypeScript is not installed: run `npm install` (or `npm run build` where it is).');
    process.exit(1);
  }
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves an unchanged file's output alone; mark the build as of now.
  const now = new Date();
  fs.utimesSync(entry, now, now);
}
