// The server's trace store, opened on first use (a server that never saves a trace creates no database file).
import type { FastifyBaseLogger } from 'fastify';
import type { AppConfig } from '../config.js';
import { serviceUnavailable } from '../errors/problem-error.js';
import { TraceStore } from './trace-store.js';

export interface StoreHandle {
  get(): Promise<TraceStore>;
  close(): Promise<void>;
}

export function storeHandle(config: AppConfig, log: FastifyBaseLogger): StoreHandle {
  let opening: Promise<TraceStore> | undefined;
  return {
    get() {
      if (!opening) {
        opening = TraceStore.open(config.DATA_DIR, {
          maxCount: config.TRACES_MAX_COUNT,
          maxBytes: config.TRACES_MAX_BYTES,
        }).then(
          ({ store, sweep }) => {
            if (sweep.tmpFiles + sweep.orphanFiles + sweep.rowsWithoutFile > 0) {
              log.warn({ dir: config.DATA_DIR, ...sweep }, 'trace store: removed what an interrupted write left');
            }
            log.info({ dir: config.DATA_DIR, ...store.totals() }, 'trace store opened');
            return store;
          },
          (err: Error) => {
            log.error({ dir: config.DATA_DIR, err: err.message }, 'trace store: cannot open');
            throw serviceUnavailable(
              'trace_store_unavailable',
              `The saved-trace store in ${config.DATA_DIR} cannot be opened (${err.message}); check DATA_DIR.`,
            );
          },
        );
        opening.catch(() => {
          opening = undefined;
        });
      }
      return opening;
    },
    async close() {
      if (opening) (await opening.catch(() => undefined))?.close();
    },
  };
}
