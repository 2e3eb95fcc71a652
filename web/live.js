// live.js: keep the page current. Server-Sent Events when the stream is up;
// polling every POLL_MS while it is not; the stream is reopened every
// RECONNECT_MS after it closes for good.
//
// startLive({ onEvent(name, data), refresh() → Promise<boolean>, onState(state) })
// state: 'live' (stream open), 'polling' (stream down, API answering),
// 'down' (the last refresh failed: the service is unreachable).

import { eventsUrl } from './api.js';

export const POLL_MS = 5000;
const RECONNECT_MS = 10000;
const SAFETY_MS = 60000; // a full refresh now and then even while live
const EVENTS = ['analyzed-customer', 'anomaly', 'deal-closed', 'team-status', 'customer-assigned', 'floor-changed'];

export function startLive({ onEvent, refresh, onState }) {
  let es = null;
  let pollTimer = null;
  let reconnectTimer = null;
  let state = '';

  const setState = (s) => {
    if (s !== state) {
      state = s;
      onState(s);
    }
  };

  async function poll() {
    const ok = await refresh();
    if (es && es.readyState === EventSource.OPEN) setState(ok ? 'live' : 'down');
    else setState(ok ? 'polling' : 'down');
    return ok;
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(poll, POLL_MS);
  }

  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  function connect() {
    clearTimeout(reconnectTimer);
    reconnectTimer = null;
    if (es) es.close();
    if (typeof EventSource !== 'function') {
      startPolling();
      return;
    }
    es = new EventSource(eventsUrl());
    es.onopen = () => {
      stopPolling();
      setState('live');
      poll(); // catch up on anything missed while the stream was down
    };
    es.onerror = () => {
      startPolling();
      if (state === 'live') setState('polling');
      if (es.readyState === EventSource.CLOSED) {
        es.close();
        es = null;
        reconnectTimer = setTimeout(connect, RECONNECT_MS);
      }
      // CONNECTING: the browser retries by itself; polling covers the gap.
    };
    for (const name of EVENTS) {
      es.addEventListener(name, (ev) => {
        let data;
        try {
          data = JSON.parse(ev.data);
        } catch {
          return;
        }
        onEvent(name, data);
      });
    }
  }

  poll();
  connect();
  setInterval(() => {
    if (!pollTimer) poll();
  }, SAFETY_MS);

  return {
    /** Reopen the stream (after the token changed). */
    restart: connect,
    refreshNow: poll,
  };
}
