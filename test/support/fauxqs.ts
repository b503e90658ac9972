import { buildApp } from 'fauxqs';

/** A fauxqs SQS emulator running in this process, bound to 127.0.0.1 on a free port. */
export interface Emulator {
  readonly endpoint: string;
  close(): Promise<void>;
}

export async function startEmulator(): Promise<Emulator> {
  // startFauxqs() binds 0.0.0.0; buildApp().listen() lets us keep it on loopback.
  const app = buildApp({ logger: false });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  return {
    endpoint: address,
    close: async () => { await app.close(); },
  };
}
