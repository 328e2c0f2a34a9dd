// The executor's own Postgres session: LISTENs for new work and new applies (NOTIFY from ingest
// and version writes, payload = the schema, since channels are per database), and names itself
// `orgloop:<executor id>` so peers can see in pg_stat_activity that the executor is alive. When the
// connection drops it reconnects every second and wakes both handlers, since notifications sent
// meanwhile are lost.

import pg from 'pg';
import type { WakeHandlers } from '../runtime-plane.js';

export const APPLY_CHANNEL = 'orgloop_apply';
export { WORK_CHANNEL } from './ingest.js';
import { WORK_CHANNEL } from './ingest.js';

export const sessionName = (executorId: string) => `orgloop:${executorId}`.slice(0, 63);

export class Listener {
  private client: pg.Client | null = null;
  private stopped = false;
  private retry: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly schema: string,
    private readonly session: string,
    private readonly on: WakeHandlers,
    /**
     * Whether a backend is one of this executor's own pool: its work notifications are answered
     * in-process by the store that sent them, so the listener drops them.
     */
    private readonly own: (backendPid: number) => boolean = () => false,
  ) {}

  async start(): Promise<void> {
    await this.connect();
  }

  private async connect(): Promise<void> {
    const c = new pg.Client({ ...this.config, application_name: this.session });
    c.on('error', () => this.lost(c));
    c.on('end', () => this.lost(c));
    c.on('notification', (n) => {
      if (n.payload !== this.schema) return;
      if (n.channel === WORK_CHANNEL) {
        if (!this.own(n.processId)) this.on.work();
      }
      else if (n.channel === APPLY_CHANNEL) this.on.apply();
    });
    await c.connect();
    await c.query(`LISTEN ${WORK_CHANNEL}; LISTEN ${APPLY_CHANNEL}`);
    if (this.stopped) {
      await c.end().catch(() => {});
      return;
    }
    this.client = c;
  }

  private lost(c: pg.Client): void {
    if (this.client !== c) return;
    this.client = null;
    c.removeAllListeners('end');
    void c.end().catch(() => {});
    this.reconnect();
  }

  private reconnect(): void {
    if (this.stopped || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      this.connect().then(
        () => {
          // whatever was notified while we were away is lost: look once
          this.on.work();
          this.on.apply();
        },
        () => this.reconnect(),
      );
    }, 1000);
    this.retry.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const c = this.client;
    this.client = null;
    if (c) await c.end().catch(() => {});
  }
}
