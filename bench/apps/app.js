// The one Node app every Node-capable manager runs in bench/compare.py (and wsgi_app.py is the same idea for
// gunicorn): after STARTUP_DELAY_MS it serves GET / with "pid P worker W". Where it listens is the only
// difference, and each manager's own convention: the inherited socket at fd 3 under cluster-master
// (LISTEN_FDS), PORT everywhere else (node:cluster workers, which PM2 cluster mode and npm cluster-master
// use, hand that listen() to their primary, which shares one socket), or PORT alone when run by itself.
'use strict';
const http = require('http');
const net = require('net');
const cluster = require('cluster');
const id = process.env.CM_CHILD_ID || process.env.NODE_APP_INSTANCE || (cluster.worker && cluster.worker.id) || 0;
const delay = Number(process.env.STARTUP_DELAY_MS || 0);
const body = `pid ${process.pid} worker ${id}\n`;

setTimeout(() => {
  let stopping = false;
  const server = http.createServer((req, res) => {
    if (stopping) res.setHeader('Connection', 'close');
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(body);
  });
  const where = Number(process.env.LISTEN_FDS || 0) > 0
    ? { fd: 3 } : { port: Number(process.env.PORT), host: '127.0.0.1' };
  // the line cluster-master's `--ready log:` waits for (the others learn it from node:cluster's 'listening')
  server.listen(where, () => console.log(`worker ${id} listening`));
  // graceful stop: accept no more; a keep-alive connection closes after its next answer. http's close() would
  // also drop idle keep-alive connections at once, racing a client's next request on them (a failed request
  // that is the app's, not its manager's); the idle ones still open a second later are dropped then.
  const stop = () => {
    if (stopping) return;
    stopping = true;
    net.Server.prototype.close.call(server, () => process.exit(0));
    setTimeout(() => server.closeIdleConnections(), 1000).unref();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}, delay);
