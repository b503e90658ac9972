/**
 * A local app for worker tests: an HTTP server on 127.0.0.1:0 that records every POST it gets
 * (headers, body, when) and answers through a handler the test sets.
 */
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface AppRequest {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

export type AppHandler = (req: AppRequest, res: ServerResponse) => void | Promise<void>;

export interface TestApp {
  readonly url: string;
  readonly requests: AppRequest[];
  /** Requests being handled now, and the most at once. */
  active: number;
  maxActive: number;
  handler: AppHandler;
  close(): Promise<void>;
}

export const ok: AppHandler = (_req, res) => {
  res.writeHead(200).end();
};

export async function startTestApp(handler: AppHandler = ok): Promise<TestApp> {
  let server: Server;
  const app: TestApp = {
    url: '',
    requests: [],
    active: 0,
    maxActive: 0,
    handler,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: AppRequest = { path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: Date.now() };
      app.requests.push(r);
      app.active += 1;
      app.maxActive = Math.max(app.maxActive, app.active);
      res.on('close', () => {
        app.active -= 1;
      });
      void Promise.resolve(app.handler(r, res)).catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (app as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/work`;
  return app;
}
