import type { AddressInfo } from 'node:net';
import { App, type Logger as BoltLogger, LogLevel, webApi } from '@slack/bolt';
import type { Logger } from '../lib/log.ts';
import { rateLimited } from '../lib/metrics.ts';
import type { SlackConfig } from './config.ts';
import { guardAcks } from './first-answer.ts';

/**
 * The Bolt app: over HTTP (Slack posts commands and interactions to the request URL, signed with the signing
 * secret; Bolt refuses unsigned, mis-signed and stale requests with 401), or, when SLACK_APP_TOKEN is set, over
 * Socket Mode (the app opens a WebSocket to Slack, for hosts without a public URL). Its Web API client is
 * pointed at SLACK_API_URL.
 */
export const EVENTS_PATH = '/slack/events';

export interface SlackApp {
  app: App;
  /** Starts receiving (after checking the token with auth.test); HTTP mode resolves with the port. */
  start(): Promise<{ port: number | undefined }>;
  stop(): Promise<void>;
}

export function createSlackApp(config: SlackConfig, log: Logger): SlackApp {
  const logger = boltLogger(log);
  const common = {
    token: config.botToken,
    logger,
    // auth.test runs in start(), so a wrong token stops the bot there rather than at the first request.
    deferInitialization: true,
    clientOptions: {
      slackApiUrl: config.apiUrl,
      logger,
      timeout: 30_000,
      // A few quick retries: a job's writes wait on each other, so minutes of back-off would stall its thread.
      retryConfig: { retries: 3, factor: 2, minTimeout: 500, maxTimeout: 5_000 },
    },
  };
  const socketMode = config.appToken !== undefined;
  const app = socketMode
    ? new App({ ...common, appToken: config.appToken, socketMode: true })
    : new App({
        ...common,
        signingSecret: config.signingSecret,
        endpoints: EVENTS_PATH,
        processBeforeResponse: false,
      });

  // Every listener registered from here on is acknowledged in time, whatever it waits for (first-answer.ts).
  guardAcks(app, log);

  // The bot's own client (the job events' writes); the WebClient waits out the 429 itself.
  app.client.on(webApi.WebClientEvent.RATE_LIMITED, () => rateLimited.inc({ platform: 'slack' }));

  app.error(async (error) => {
    log.error({ platform: 'slack', code: error.code, message: error.message }, 'slack: a listener failed');
  });

  return {
    app,
    async start() {
      await app.init();
      if (socketMode) {
        await app.start();
        log.info({ platform: 'slack', mode: 'socket' }, 'slack app connected');
        return { port: undefined };
      }
      const server = (await app.start({
        port: config.port,
        ...(config.host ? { host: config.host } : {}),
      })) as {
        address(): AddressInfo | string | null;
      };
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : config.port;
      log.info({ platform: 'slack', mode: 'http', port, path: EVENTS_PATH }, 'slack app listening');
      return { port };
    },
    async stop() {
      await app.stop();
    },
  };
}

/**
 * Bolt's and the Web API client's log lines into ours. Their debug lines (request URLs and bodies, which can
 * carry signed file URLs) are dropped.
 */
function boltLogger(log: Logger): BoltLogger {
  let level = LogLevel.INFO;
  const line = (msg: unknown[]) => msg.map((m) => (m instanceof Error ? m.message : String(m))).join(' ');
  return {
    debug: () => {},
    info: (...msg) => log.info({ platform: 'slack' }, line(msg)),
    warn: (...msg) => log.warn({ platform: 'slack' }, line(msg)),
    error: (...msg) => log.error({ platform: 'slack' }, line(msg)),
    setLevel: (l) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => {},
  };
}
