// npm cluster-master running apps/app.js for bench/compare.py: its REPL restart() is its rolling restart.
'use strict';
const path = require('path');
require(process.env.NCM_MODULE || 'cluster-master')({
  exec: path.join(__dirname, 'app.js'),
  size: Number(process.env.SIZE || 2),
  repl: process.env.NCM_REPL || false,
  env: { PORT: process.env.PORT, STARTUP_DELAY_MS: process.env.STARTUP_DELAY_MS || '0' },
});
