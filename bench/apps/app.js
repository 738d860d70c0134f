// Comparison app for bench/rolling-restart.sh: the same answer as the demo worker, under pm2 or cluster-master (npm).
'use strict';
const http = require('http');
const cluster = require('cluster');
const id = process.env.NODE_APP_INSTANCE || (cluster.worker && cluster.worker.id) || 0;
const delay = Number(process.env.STARTUP_DELAY_MS || 0);
const body = `pid ${process.pid} worker ${id}\n`;

// the delay imitates a slow start, like DEMO_STARTUP_DELAY_MS for the Java demo: listen only after it
setTimeout(() => {
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  });
  server.listen(Number(process.env.PORT), '127.0.0.1');
  // graceful stop: no new connections, finish what is in flight (node 20 also closes idle keep-alive ones)
  const stop = () => server.close(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}, delay);
