// The lowest floor: node:http answering 200 to everything, after reading the body. No signature check.
import http from 'node:http';

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-length': '0' });
    res.end();
  });
});
server.listen(Number(process.env.PORT ?? 3000));
process.on('SIGTERM', () => process.exit(0));
