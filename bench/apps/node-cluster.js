// Plain node:cluster as a manager for bench/compare.py, the least a Node user would write: SIZE workers of
// app.js, a dead one replaced at once, SIGHUP a rolling restart (one new worker listening, then its old one gets
// SIGTERM, app.js's graceful stop, and is waited for), SIGTERM/SIGINT a graceful stop.
'use strict';
const cluster = require('cluster');
const path = require('path');
const size = Number(process.env.SIZE || 2);
cluster.setupPrimary({ exec: path.join(__dirname, 'app.js') });
let stopping = false;
const fork = () => cluster.fork();
const retired = new Set();
cluster.on('exit', (w) => {
  if (!stopping && !retired.has(w.id)) fork();
});
for (let i = 0; i < size; i++) fork();

let rolling = false;
process.on('SIGHUP', async () => {
  if (rolling) return;
  rolling = true;
  for (const old of Object.values(cluster.workers)) {
    const fresh = fork();
    await new Promise((resolve) => fresh.once('listening', resolve));
    retired.add(old.id);
    await new Promise((resolve) => { old.once('exit', resolve); old.process.kill('SIGTERM'); });
  }
  rolling = false;
});
const stop = () => {
  stopping = true;
  for (const w of Object.values(cluster.workers)) w.disconnect();
  cluster.on('exit', () => { if (Object.keys(cluster.workers).length === 0) process.exit(0); });
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
