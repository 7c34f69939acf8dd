// Compile src/ into dist/ only when dist/ is missing or older than a source file. Run by `npm install`
// (the `prepare` script), so a fresh clone's `npm install` then `npm start` works, and by `npm run dev`.
// Without TypeScript (`npm ci --omit=dev`, or Heroku after it pruned devDependencies) it does not fail
// the install: dist/ is what a deploy built (Heroku runs `npm run build`); only `npm run dev` insists.
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
    // An install without devDependencies may get dist/ from elsewhere (a build step, an image layer).
    process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
  }
  const result = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
  if (result.status !== 0) process.exit(result.status ?? 1);
  // tsc leaves an unchanged file's output alone; mark the build as of now.
  const now = new Date();
  fs.utimesSync(entry, now, now);
}
